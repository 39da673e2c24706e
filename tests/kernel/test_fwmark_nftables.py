"""lvs.cluster.fwmark with nftables, on the build host's own kernel in a private network
namespace (the lab guests' kernel has no nf_tables inet, so this backend cannot run
there). `nft list table inet lvs_fwmark` is the oracle. Needs root, nft and
iptables-legacy on the host; no lab guest."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not (shutil.which("nft") and shutil.which("iptables-legacy")),
    reason="needs root, nft and iptables-legacy on the build host",
)
RTSP = [
    {"fwmark": 1, "address": "192.0.2.50", "protocol": "tcp", "port": "554"},
    {"fwmark": 1, "address": "192.0.2.50", "protocol": "udp", "port": "6970:6999"},
    {"fwmark": 2, "address": "2001:db8::50", "protocol": "tcp", "port": "554"},
]


class Netns:
    def __init__(self, name: str, boot_dir: Path):
        self.name, self.boot_dir = name, boot_dir

    def sh(self, cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            ["ip", "netns", "exec", self.name, "sh", "-c", cmd], capture_output=True, text=True
        )
        if check and proc.returncode:
            raise AssertionError(f"{cmd}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
        return proc

    def module(self, args: dict, check_mode: bool = False, diff: bool = False) -> dict:
        args = {"boot_dir": str(self.boot_dir), **args}
        cmd = ["ip", "netns", "exec", self.name, "ansible", "localhost", "-c", "local"]
        cmd += ["-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}"]
        cmd += ["-m", "lvs.cluster.fwmark", "-a", json.dumps(args)]
        cmd += ["--check"] * check_mode + ["--diff"] * diff
        env = {
            **os.environ,
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        }
        # Under pytest-xdist stdin is a non-blocking pipe, which ansible refuses.
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=REPO, stdin=subprocess.DEVNULL
        )
        try:
            report = json.JSONDecoder().raw_decode(proc.stdout)[0]
            return report["plays"][0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError) as exc:
            raise AssertionError(f"no module result: {proc.stdout}\n{proc.stderr}") from exc

    def table(self) -> str:
        proc = self.sh("nft list table inet lvs_fwmark", check=False)
        return proc.stdout if proc.returncode == 0 else ""


@pytest.fixture
def netns(tmp_path):
    name = f"lvs-fwmark-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        yield Netns(name, tmp_path / "lvs")
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def test_nftables_marks_live_and_at_boot(netns):
    # a table of someone else's, which must survive everything below
    netns.sh(
        "nft add table inet theirs && nft add chain inet theirs c && "
        "nft add rule inet theirs c tcp dport 22 accept"
    )
    probe = netns.module({"probe_only": True}, check_mode=True)
    assert probe["backend"] == "nftables" and not probe["changed"]

    check = netns.module({"rules": RTSP}, check_mode=True, diff=True)
    assert check["changed"] and check["backend"] == "nftables"
    assert netns.table() == "" and not netns.boot_dir.exists()

    first = netns.module({"rules": RTSP}, diff=True)
    assert (
        first["changed"]
        and first["boot_command"] == f"/usr/sbin/nft -f {netns.boot_dir}/fwmark.nft"
    )
    live = netns.table()
    assert "ip daddr 192.0.2.50 tcp dport 554 meta mark set 0x00000001" in live
    assert "ip daddr 192.0.2.50 udp dport 6970-6999 meta mark set 0x00000001" in live
    assert "ip6 daddr 2001:db8::50 tcp dport 554 meta mark set 0x00000002" in live
    assert check["operations"] == first["operations"] and check["diff"] == first["diff"]
    assert not netns.module({"rules": RTSP})["changed"]

    # a rule added by hand to the collection's table goes; the boot file restores
    netns.sh("nft add rule inet lvs_fwmark prerouting tcp dport 80 meta mark set 9")
    again = netns.module({"rules": RTSP})
    assert again["changed"] and "tcp dport 80" not in netns.table() and netns.table() == live
    netns.sh("nft delete table inet lvs_fwmark")
    netns.sh(first["boot_command"])
    assert netns.table() == live

    # a dropped mark is removed; no marks remove the table and the boot file
    netns.module({"rules": RTSP[:1]})
    assert netns.table().count("meta mark set") == 1
    gone = netns.module({"rules": []})
    assert gone["changed"] and netns.table() == ""
    assert not (netns.boot_dir / "fwmark.nft").exists()
    assert "tcp dport 22 accept" in netns.sh("nft list table inet theirs").stdout


def test_moving_from_iptables_legacy_to_nftables_cleans_up(netns):
    netns.sh("iptables-legacy -t mangle -A PREROUTING -s 10.0.0.1 -j ACCEPT")
    legacy = netns.module({"rules": RTSP[:2], "backend": "iptables-legacy"})
    assert legacy["backend"] == "iptables-legacy"
    assert "-A PREROUTING -j LVS_FWMARK" in netns.sh("iptables-legacy -t mangle -S").stdout
    moved = netns.module({"rules": RTSP[:2]})
    assert moved["backend"] == "nftables" and moved["changed"]
    assert "delete the chain LVS_FWMARK and its jump (iptables-legacy)" in moved["operations"]
    assert "remove fwmark.sh" in moved["operations"]
    mangle = netns.sh("iptables-legacy -t mangle -S").stdout
    assert "LVS_FWMARK" not in mangle and "-A PREROUTING -s 10.0.0.1/32 -j ACCEPT" in mangle
    assert sorted(p.name for p in netns.boot_dir.iterdir()) == ["fwmark.nft"]


TRANSPARENT = {
    "fwmark": 7,
    "address": "198.18.0.0/15",
    "protocol": "tcp",
    "port": "80",
    "interface": "up0",
}


@pytest.mark.parametrize("backend", ["nftables", "iptables-legacy"])
def test_forwarded_web_traffic_is_marked_and_delivered_locally(netns, backend):
    """A host that routes (like a director in the clients' path to the web) takes the
    TCP port 80 traffic it would forward to 198.18.0.0/15 for itself: a listener on the
    host accepts a connection addressed to an origin. (IPVS takes such packets at local
    input and sends them on; a socket must be IP_TRANSPARENT to answer from an address
    that is not the host's, which is what this listener does.)"""
    client = f"{netns.name}-c"
    subprocess.run(["ip", "netns", "add", client], check=True)
    try:
        netns.sh(
            f"ip link add up0 type veth peer name cl0 netns {client} && "
            "ip addr add 203.0.113.1/24 dev up0 && ip link set up0 up && ip link set lo up && "
            "sysctl -qw net.ipv4.ip_forward=1"
        )
        subprocess.run(
            ["ip", "netns", "exec", client, "sh", "-c",
             "ip addr add 203.0.113.10/24 dev cl0 && ip link set cl0 up && "
             "ip link set lo up && ip route add default via 203.0.113.1"],
            check=True,
        )  # fmt: skip
        args = {"rules": [TRANSPARENT], "local_delivery": [7], "backend": backend}
        first = netns.module(args)
        assert first["changed"] and first["local_boot_command"].endswith("/fwmark-local.sh")
        assert "deliver mark 7 locally (policy rule 101)" in first["operations"]
        assert "fwmark 0x7 lookup 101" in netns.sh("ip -4 rule show").stdout
        assert not netns.module(args)["changed"]

        server = subprocess.Popen(
            ["ip", "netns", "exec", netns.name, sys.executable, "-c",
             "import socket; s = socket.socket(); s.setsockopt(socket.SOL_IP, 19, 1); "
             "s.bind(('0.0.0.0', 80)); s.listen(); c, a = s.accept(); "
             "c.sendall(('to ' + c.getsockname()[0]).encode()); c.close()"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            got = subprocess.run(
                ["ip", "netns", "exec", client, sys.executable, "-c",
                 "import socket, time\n"
                 "for _ in range(50):\n"
                 "    try:\n"
                 "        s = socket.create_connection(('198.18.0.5', 80), timeout=2); break\n"
                 "    except ConnectionRefusedError: time.sleep(0.1)\n"
                 "print(s.recv(100).decode())"],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
        finally:
            server.kill()
        # the host answered as the origin address the client asked for
        assert got.stdout.strip() == "to 198.18.0.5", got.stderr

        # live state lost (a reboot): the boot files bring it back
        netns.sh("ip -4 rule del priority 101 fwmark 0x7 lookup 101 && ip route flush table 101")
        netns.sh(first["local_boot_command"] + " && " + first["local_boot_command"])
        assert netns.sh("ip -4 rule show").stdout.count("lookup 101") == 1
        assert not netns.module(args)["changed"]

        gone = netns.module({"rules": [], "backend": backend})
        assert gone["changed"] and "lookup 101" not in netns.sh("ip -4 rule show").stdout
        assert netns.sh("ip -4 route show table 101", check=False).stdout == ""
        assert not list(netns.boot_dir.iterdir())
    finally:
        subprocess.run(["ip", "netns", "del", client], check=False)
