"""The lvs_realserver and web roles on a web lab of their own (``rstest``).

playbooks/realservers.yml converges rs1..rs3 (then again: changed=0); dir1 is set up
by hand as a plain IPVS director (the director role is tested elsewhere) with one VIP
per forwarding method, and the client sees each VIP split requests evenly over the
three real servers by their X-Real-Server header, HTTPS verified against the lab CA.
A rebooted real server has its VIPs, tunnel, NAT rule and nginx back without Ansible.
Last, a VIP and the NAT rule that are no longer declared are removed (check mode
first: planned, not done).

The lab is brought up and down here (LVS_KEEP_LAB=1 keeps it).
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB = os.environ.get("LVS_RS_LAB", "rstest")
SERVERS = ("rs1", "rs2", "rs3")
NAT_AND_TUN = "ip -4 addr show dev tunl0; ip -4 rule; ip -4 route show table 100"
VIPS = {"dr": "192.0.2.100", "tun": "192.0.2.101", "nat": "192.0.2.102"}

# dir1 by hand: the three VIPs on the front, the inside VIP on the back, rr services.
DIRECTOR_SETUP = """
set -e
sysctl -qw net.ipv4.ip_forward=1
modprobe ip_vs
ipvsadm -C
for a in 192.0.2.100 192.0.2.101 192.0.2.102; do ip addr replace $a/24 dev eth0; done
ip addr replace 198.51.100.1/24 dev eth1
for p in 80 443; do ipvsadm -A -t 192.0.2.100:$p -s rr; done
ipvsadm -A -t 192.0.2.101:80 -s rr
ipvsadm -A -t 192.0.2.102:80 -s rr
for i in 21 22 23; do
  for p in 80 443; do ipvsadm -a -t 192.0.2.100:$p -r 192.0.2.$i -g; done
  ipvsadm -a -t 192.0.2.101:80 -r 192.0.2.$i -i
  ipvsadm -a -t 192.0.2.102:80 -r 198.51.100.$i -m
done
"""


def _run(cmd: list[str], timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL, cwd=REPO
    )
    if check and proc.returncode:
        raise AssertionError(
            f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


class RsLab:
    def __init__(self, pki: Path):
        self.pki = pki
        self.state = json.loads(_run(["lvslab", "status", "--json", "--name", LAB]).stdout)

    def ssh(self, guest: str, cmd: str, check: bool = True) -> str:
        return _run(["lvslab", "ssh", "--name", LAB, guest, "--", cmd], check=check).stdout

    def client(self, cmd: str) -> str:
        return _run(["lvslab", "client", "--name", LAB, "--", "sh", "-c", cmd]).stdout

    def playbook(self, *args: str) -> dict[str, dict[str, int]]:
        """Run the preflight and playbooks/realservers.yml; return the recap per host."""
        start = time.monotonic()
        env_args = ["-i", str(REPO / "inventory" / "web"), "-i", self.state["inventory"]]
        # the real-server tier alone, content on local disk: no shared storage (the
        # web scenario covers the document root on NFS)
        no_storage = json.dumps(
            {"lvs_storage": None, "lvs_applications": {"web": {"hosts": ["realservers"]}}}
        )
        proc = _run(
            [
                "ansible-playbook",
                *env_args,
                # the plan first: the real-server plays read it
                "playbooks/preflight.yml",
                "playbooks/realservers.yml",
                *("-e", f"lvs_pki_dir={self.pki}", "-e", no_storage, *args),
            ],
            timeout=900,
        )
        print(f"realservers.yml {' '.join(args)}: {time.monotonic() - start:.1f} s")
        recap = {}
        for host, fields in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", proc.stdout, re.M):
            recap[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
        assert recap, proc.stdout
        return recap

    def servers_seen(self, url: str, count: int, curl_args: str = "") -> collections.Counter:
        out = self.client(
            f"for i in $(seq {count}); do curl -sS -m 5 {curl_args} -o /dev/null -D - {url}; done"
        )
        return collections.Counter(re.findall(r"^X-Real-Server: (\S+)\r?$", out, re.M | re.I))


@pytest.fixture(scope="module")
def rslab(tmp_path_factory):
    up = _run(["lvslab", "up", "web", "--name", LAB], timeout=600)
    started = "already up" not in up.stdout
    try:
        lab = RsLab(tmp_path_factory.mktemp("pki"))
        recap = lab.playbook()
        assert all(recap[h]["failed"] == 0 for h in SERVERS), recap
        lab.ssh("dir1", DIRECTOR_SETUP)
        yield lab
    finally:
        if started and not os.environ.get("LVS_KEEP_LAB"):
            _run(["lvslab", "down", "--name", LAB], check=False)


def test_site_runs_storage_then_real_servers_then_directors():
    out = _run(["ansible-playbook", "-i", "inventory/web", "--list-tasks", "site.yml"]).stdout
    plays = re.findall(r"^\s*play #\d+ \(([^)]*)\): (.+?)\s+TAGS", out, re.M)
    names = [name for _hosts, name in plays]
    assert names.index("Validate the topology model") < names.index(
        "Configure the storage servers"
    ), names
    assert names.index("Mount the shared storage") < names.index(
        "Configure the LVS real servers"
    ), names
    assert names.index("Configure the LVS real servers") < names.index(
        "Configure the LVS directors"
    ), names


def test_second_converge_changes_nothing(rslab):
    recap = rslab.playbook()
    assert {h: recap[h]["changed"] for h in SERVERS} == dict.fromkeys(SERVERS, 0)


@pytest.mark.parametrize("method", ["dr", "tun", "nat"])
def test_each_method_splits_evenly_over_the_real_servers(rslab, method):
    seen = rslab.servers_seen(f"http://{VIPS[method]}/", 9)
    assert seen == dict.fromkeys(SERVERS, 3), (method, seen)


def test_https_through_the_dr_vip_with_the_lab_ca(rslab):
    ca = rslab.pki / "ca.crt"
    assert ca.is_file()
    seen = rslab.servers_seen("https://192.0.2.100/", 3, f"--cacert {ca}")
    assert seen == dict.fromkeys(SERVERS, 1), seen


def test_rebooted_real_server_comes_back_without_ansible(rslab):
    _run(["lvslab", "stop", "--name", LAB, "rs1"])
    _run(["lvslab", "start", "--name", LAB, "rs1"])
    rslab.ssh("rs1", "systemctl is-system-running --wait", check=False)
    state = rslab.ssh(
        "rs1",
        "ip -4 -o addr show dev lvs0; ip -4 -o addr show dev tunl0; ip -4 rule;"
        " ip -4 route show table 100; sysctl net.ipv4.conf.all.arp_ignore"
        " net.ipv4.conf.eth0.arp_announce net.ipv4.conf.tunl0.rp_filter;"
        " systemctl is-active nginx lvs-realserver",
    )
    assert "192.0.2.100/32" in state
    assert "192.0.2.101/32" in state
    assert "from 198.51.100.21 lookup 100" in state
    assert "default via 198.51.100.1 dev eth1" in state
    assert "arp_ignore = 1" in state and "arp_announce = 2" in state
    assert "tunl0.rp_filter = 0" in state
    assert state.split()[-2:] == ["active", "active"], state
    for method in ("dr", "tun", "nat"):
        seen = rslab.servers_seen(f"http://{VIPS[method]}/", 9)
        assert seen == dict.fromkeys(SERVERS, 3), (method, seen)


# last: rs2 keeps only its DR VIP afterwards
def test_undeclared_vip_and_nat_rule_are_removed(rslab):
    only_dr = json.dumps(
        {
            "lvs_realserver_vips": [{"address": VIPS["dr"], "method": "dr"}],
            "lvs_realserver_nat": None,
        }
    )
    before = rslab.ssh("rs2", NAT_AND_TUN)
    assert "192.0.2.101/32" in before and "lookup 100" in before
    # check mode plans the removal and does nothing
    recap = rslab.playbook("--limit", "rs2", "-e", only_dr, "--check")
    assert recap["rs2"]["changed"] > 0
    assert rslab.ssh(
        "rs2", "ip -4 addr show dev tunl0; ip -4 rule; ip -4 route show table 100"
    ) == (before)
    recap = rslab.playbook("--limit", "rs2", "-e", only_dr)
    assert recap["rs2"]["changed"] > 0
    after = rslab.ssh("rs2", "ip -4 addr show dev tunl0; ip -4 rule")
    assert "192.0.2.101" not in after and "lookup 100" not in after
    assert rslab.ssh("rs2", "ip -4 route show table 100").strip() == ""
    assert "192.0.2.100/32" in rslab.ssh("rs2", "ip -4 addr show dev lvs0")
    # declared again: restored
    recap = rslab.playbook("--limit", "rs2")
    assert recap["rs2"]["changed"] > 0
    assert rslab.ssh(
        "rs2", "ip -4 addr show dev tunl0; ip -4 rule; ip -4 route show table 100"
    ) == (before)
