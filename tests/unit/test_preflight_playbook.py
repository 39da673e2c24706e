"""site.yml runs the preflight first: bad inventories fail there, the profiles pass.

No lab: the preflight play runs on the controller only. A bad inventory must stop the
run in the preflight play (the directors' play never starts, so no host is contacted).
A good profile is run with an explicit localhost added to the inventory and
``--limit localhost``: every play after the preflight matches no host.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible_collections.lvs.cluster.plugins.module_utils import lvs_model

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PROFILES = ["web", "media", "cache", "mail", "smoke"]
DIRECTORS_PLAY = "PLAY [Configure the LVS directors]"


def _env() -> dict:
    # .../ansible_collections/lvs/cluster/plugins/module_utils/lvs_model/__init__.py
    collections = Path(lvs_model.__file__).parents[6]
    return {
        **os.environ,
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }


def site(*args: str) -> subprocess.CompletedProcess:
    cmd = [str(BIN / "ansible-playbook"), str(ROOT / "site.yml"), *args]
    return subprocess.run(
        cmd, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=300, check=False
    )


def _bad_inventory(tmp_path: Path, edit) -> Path:
    inv = tmp_path / "inventory"
    shutil.copytree(ROOT / "inventory" / "web", inv)
    hosts_file = inv / "hosts.yml"
    topo_file = inv / "group_vars" / "all" / "topology.yml"
    hosts = yaml.safe_load(hosts_file.read_text())
    topo = yaml.safe_load(topo_file.read_text())
    edit(hosts, topo)
    hosts_file.write_text(yaml.safe_dump(hosts))
    topo_file.write_text(yaml.safe_dump(topo))
    return inv


def _svc(topo, name):
    return next(s for s in topo["lvs_services"] if s["name"] == name)


def _vip_outside(hosts, topo):
    _svc(topo, "web-https-dr")["vip"] = "203.0.113.50"


def _duplicate_port(hosts, topo):
    _svc(topo, "web-http-tun")["vip"] = "web-dr"


def _no_peer(hosts, topo):
    del hosts["all"]["children"]["directors"]["hosts"]["dir2"]


def _no_inside_vip(hosts, topo):
    topo["lvs_vips"] = [v for v in topo["lvs_vips"] if not v.get("nat_gateway")]


def _weight(hosts, topo):
    _svc(topo, "web-http-tun")["real_servers"][0]["weight"] = 70000


def _auth_v3(hosts, topo):
    topo["lvs_vrrp"]["auth"] = {"type": "PASS", "pass": "secret"}


def _dr_translation_and_unknown_rs(hosts, topo):
    _svc(topo, "web-http-dr")["real_servers"][0]["port"] = 8080
    _svc(topo, "web-http-dr")["real_servers"][1]["host"] = "rs9"


BAD = [
    ("vip-outside", _vip_outside,
     ["service web-https-dr: VIP 203.0.113.50 is outside every director network"]),
    ("duplicate-vip-port", _duplicate_port,
     ["service web-http-tun: 192.0.2.100:80/tcp is already service web-http-dr"]),
    ("missing-peer", _no_peer,
     ["missing peer director: keepalived (HA) mode needs two directors, found dir1"]),
    ("nat-without-inside-vip", _no_inside_vip,
     ["service web-http-nat: NAT needs an inside VIP"]),
    ("weight", _weight,
     ["service web-http-tun: real server rs1: weight 70000 is out of range 0..65535"]),
    ("auth-with-v3", _auth_v3, ["vrrp: auth is only for VRRP version 2"]),
    ("all-at-once", _dr_translation_and_unknown_rs,
     ["real server rs1: port 8080 differs from the service port 80: DR cannot translate",
      "service web-http-dr: real server rs9 is not in the inventory"]),
]  # fmt: skip


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_inventory_fails_in_preflight(tmp_path, edit, expected):
    run = site("-i", str(_bad_inventory(tmp_path, edit)))
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    assert "PLAY [Validate the topology model]" in out
    assert "the topology model has" in out
    for message in expected:
        assert message in out
    assert DIRECTORS_PLAY not in out, "the run went on past a failed preflight"


def test_host_override_of_the_model_fails(tmp_path):
    inv = _bad_inventory(tmp_path, lambda hosts, topo: None)
    (inv / "host_vars").mkdir()
    (inv / "host_vars" / "dir2.yml").write_text("---\nlvs_timeouts: {tcp: 60}\n")
    run = site("-i", str(inv))
    assert run.returncode != 0
    assert "host dir2 sees a different lvs_timeouts than dir1" in run.stdout
    assert DIRECTORS_PLAY not in run.stdout


def test_inventory_without_hosts_fails(tmp_path):
    empty = tmp_path / "hosts.yml"
    empty.write_text("---\nall: {}\n")
    run = site("-i", str(empty), "-i", "localhost,")
    assert run.returncode != 0
    assert DIRECTORS_PLAY not in run.stdout


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_passes_preflight(profile):
    run = site("-v", "-i", str(ROOT / "inventory" / profile), "-i", "localhost,",
               "--limit", "localhost")  # fmt: skip
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert f"cluster {profile}:" in out and ": valid" in out
    # the check, and the host's part of the plan; nothing else runs on localhost
    assert re.search(r"localhost\s+: ok=2\s+changed=0\s+unreachable=0\s+failed=0", out), out


@pytest.mark.parametrize(
    "selection", [["--limit", "rs1"], ["--tags", "web"], ["--limit", "dir2", "--tags", "none"]]
)
def test_preflight_runs_whatever_the_selection(tmp_path, selection):
    # the whole model is checked even when the run touches one host or one tag
    run = site("-i", str(_bad_inventory(tmp_path, _weight)), *selection)
    out = run.stdout + run.stderr
    assert run.returncode != 0, out
    assert "service web-http-tun: real server rs1: weight 70000 is out of range" in out
    assert DIRECTORS_PLAY not in out


def test_plan_reaches_a_limited_host(tmp_path):
    # a sound model under --limit: the host gets its part of the plan, nothing else runs
    inv = _bad_inventory(tmp_path, lambda hosts, topo: None)
    run = site("-i", str(inv), "-i", "localhost,", "--limit", "localhost", "--tags", "none")
    out = run.stdout + run.stderr
    assert run.returncode == 0, out
    assert re.search(r"localhost\s+: ok=2\s+changed=0", out), out
