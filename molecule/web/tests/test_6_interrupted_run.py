"""A run that fails after writing the files is repaired by the next run, in every tier.

The model changes in one tier each (a real server's weight for keepalived on the
directors, the X-Real-Server value for nginx on rs1, an export option on nfs1) while the
program each service reloads with is replaced by /bin/false (a bind mount), so the run
writes every new file and then fails to load it: the files are new, the daemons old.
The storage tier fails in a run of its own: its play has one host, and a play whose
every host failed ends the whole run, before the later tiers wrote anything. The faults
go, the same model is converged again, and the live state is checked (the
kernel's IPVS table, nginx's answers, the kernel's export table), not the files. A
last converge restores the profile.
"""

from __future__ import annotations

import copy
import subprocess

import pytest
import yaml
from conftest import TUN

from lvslab.testing import REPO

HOSTS = "localhost,dir1,dir2,rs1,nfs1"
# what each host reloads with (keepalived.service reloads with kill -HUP)
FAULTS = {
    "dir1": "/usr/bin/kill",
    "dir2": "/usr/bin/kill",
    "rs1": "/usr/sbin/nginx",
    "nfs1": "/usr/sbin/exportfs",
}
SERVER_ID = "rs1-after-repair"


def converge(lab, extra_vars_file=None, hosts=HOSTS) -> subprocess.CompletedProcess:
    cmd = ["ansible-playbook", "-i", str(REPO / "inventory" / "web"), "-i", lab.state["inventory"]]
    cmd += [str(REPO / "site.yml"), "--limit", hosts]
    if extra_vars_file:
        cmd += ["-e", f"@{extra_vars_file}"]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, stdin=subprocess.DEVNULL)


def tun_weight(lab, guest: str) -> int:
    out = lab.ssh(f"ipvsadm -Ln -t {TUN}:80", guest=guest).stdout
    line = next(x for x in out.splitlines() if "192.0.2.21:80" in x)
    return int(line.split()[3])


def served_id(lab) -> str:
    out = lab.ssh("curl -sS -m 5 -o /dev/null -D - http://192.0.2.21/", guest="dir1").stdout
    return next(x.split(":", 1)[1].strip() for x in out.splitlines() if x.startswith("X-Real"))


def live_exports(lab) -> str:
    return lab.ssh("exportfs -v", guest="nfs1").stdout


@pytest.fixture(scope="module")
def interrupted(lab, tmp_path_factory):
    topology = yaml.safe_load((REPO / "inventory/web/group_vars/all/topology.yml").read_text())
    services = copy.deepcopy(topology["lvs_services"])
    tun = next(s for s in services if s["name"] == "web-http-tun")
    tun["real_servers"][0]["weight"] = 4
    storage = copy.deepcopy(topology["lvs_storage"])
    storage["shares"][0]["export_options"] = [*storage["shares"][0]["export_options"], "insecure"]
    folder = tmp_path_factory.mktemp("interrupted")
    tiers, variant = folder / "tiers.yml", folder / "variant.yml"
    tiers.write_text(yaml.safe_dump({"lvs_services": services, "web_server_id": SERVER_ID}))
    variant.write_text(
        yaml.safe_dump(
            {"lvs_services": services, "lvs_storage": storage, "web_server_id": SERVER_ID}
        )
    )
    for guest, program in FAULTS.items():
        lab.ssh(f"mount --bind /bin/false {program}", guest=guest)
    try:
        failed = converge(lab, tiers)
        failed_storage = converge(lab, variant, hosts="localhost,nfs1")
    finally:
        for guest, program in FAULTS.items():
            lab.ssh(f"umount {program}", guest=guest, check=False)
    (folder / "failed.log").write_text(failed.stdout + failed_storage.stdout)
    print(f"the failed runs' output: {folder / 'failed.log'}")
    seen_after_failure = {
        "rc": failed.returncode,
        "rc_storage": failed_storage.returncode,
        "weight": tun_weight(lab, "dir1"),
        "conf": lab.ssh("cat /etc/keepalived/keepalived.conf", guest="dir1").stdout,
        "server_id": served_id(lab),
        "exports": live_exports(lab),
        "exports_file": lab.ssh("cat /etc/exports.d/lvs-cluster.exports", guest="nfs1").stdout,
        "out": failed.stdout[-3000:] + failed_storage.stdout[-2000:],
    }
    repaired = converge(lab, variant)
    assert repaired.returncode == 0, repaired.stdout[-3000:]
    yield {
        "failed": seen_after_failure,
        "weights": {g: tun_weight(lab, g) for g in ("dir1", "dir2")},
        "server_id": served_id(lab),
        "exports": live_exports(lab),
    }
    restored = converge(lab)
    assert restored.returncode == 0, restored.stdout[-3000:]
    assert tun_weight(lab, "dir1") == 3 and served_id(lab) == "rs1"
    assert "insecure" not in live_exports(lab)


def test_the_failed_run_wrote_the_files_and_loaded_nothing(interrupted):
    failed = interrupted["failed"]
    assert failed["rc"] != 0 and failed["rc_storage"] != 0, failed["out"]
    # the files are the new model's, the daemons still run the old one
    assert "weight 4" in failed["conf"] and failed["weight"] == 3, failed["out"]
    assert "insecure" in failed["exports_file"] and "insecure" not in failed["exports"]
    assert failed["server_id"] == "rs1"


def test_the_next_run_loads_what_the_files_say(interrupted):
    assert interrupted["weights"] == {"dir1": 4, "dir2": 4}
    assert interrupted["server_id"] == SERVER_ID
    assert "insecure" in interrupted["exports"]
