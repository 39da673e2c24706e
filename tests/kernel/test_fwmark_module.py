"""lvs.cluster.fwmark in a lab guest, whose kernel's nf_tables has only the bridge family:
the module must find iptables-legacy. `iptables-legacy -t mangle -S` (and ip6tables) is
the oracle; marked packets are followed into an IPVS fwmark service's counters."""

from __future__ import annotations

import re

import pytest

from lvslab.testing import wait_for

RTSP = [
    {"fwmark": 1, "address": "192.0.2.50", "protocol": "tcp", "port": "554"},
    {"fwmark": 1, "address": "192.0.2.50", "protocol": "udp", "port": "6970:6999"},
]
V6 = {"fwmark": 2, "address": "2001:db8::50", "protocol": "tcp", "port": "554"}
EXPECTED_V4 = [
    "-A PREROUTING -j LVS_FWMARK",
    "-A LVS_FWMARK -d 192.0.2.50/32 -p tcp -m tcp --dport 554 -j MARK --set-xmark 0x1/0xffffffff",
    "-A LVS_FWMARK -d 192.0.2.50/32 -p udp -m udp --dport 6970:6999"
    " -j MARK --set-xmark 0x1/0xffffffff",
]
EXPECTED_V6 = [
    "-A PREROUTING -j LVS_FWMARK",
    "-A LVS_FWMARK -d 2001:db8::50/128 -p tcp -m tcp --dport 554"
    " -j MARK --set-xmark 0x2/0xffffffff",
]
FOREIGN = [
    "-A PREROUTING -s 10.0.0.1/32 -j ACCEPT",
    "-A OUTPUT -p tcp -m tcp --dport 25 -j MARK --set-xmark 0x3/0xffffffff",
]
RESET = (
    "modprobe ipv6; for t in iptables-legacy ip6tables-legacy; do $t -t mangle -F;"
    " $t -t mangle -X; done; rm -f /etc/lvs/fwmark.nft /etc/lvs/fwmark.sh"
)


def mangle(lab, tool="iptables-legacy"):
    """The rules of the mangle table, policies left out."""
    out = lab.ssh(f"{tool} -t mangle -S").stdout.splitlines()
    return [line for line in out if not line.startswith("-P ")]


def ours(lines):
    return [line for line in lines if "LVS_FWMARK" in line and not line.startswith("-N")]


@pytest.fixture
def guest(lab):
    lab.ssh(RESET)
    yield lab
    lab.ssh(RESET)


def test_probe_finds_iptables_legacy_and_changes_nothing(guest):
    lab = guest
    before = mangle(lab)
    probe = lab.module("fwmark", {"probe_only": True}, check_mode=True)
    assert not probe["changed"] and probe["backend"] == "iptables-legacy"
    assert "Operation not supported" in probe["probe"]["nftables"]
    assert probe["probe"]["iptables_legacy"] is None
    assert mangle(lab) == before
    assert lab.ssh("nft list tables").stdout.strip() == ""  # the probe's table is gone too


def test_marks_check_mode_apply_rerun_drop_and_foreign_rules(guest):
    lab = guest
    lab.ssh(
        "iptables-legacy -t mangle -A PREROUTING -s 10.0.0.1 -j ACCEPT && "
        "iptables-legacy -t mangle -A OUTPUT -p tcp --dport 25 -j MARK --set-mark 3"
    )
    v4, v6 = mangle(lab), mangle(lab, "ip6tables-legacy")
    rules = [*RTSP, V6]

    check = lab.module("fwmark", {"rules": rules}, check_mode=True, diff=True)
    assert check["changed"] and check["backend"] == "iptables-legacy"
    assert mangle(lab) == v4 and mangle(lab, "ip6tables-legacy") == v6
    assert lab.ssh("ls /etc/lvs/fwmark.sh", check=False).returncode != 0

    first = lab.module("fwmark", {"rules": rules}, diff=True)
    assert first["changed"] and first["operations"] == check["operations"]
    assert first["diff"] == check["diff"]
    assert first["boot_command"] == "/bin/sh /etc/lvs/fwmark.sh"
    after_v4, after_v6 = mangle(lab), mangle(lab, "ip6tables-legacy")
    assert sorted(ours(after_v4)) == sorted(EXPECTED_V4)
    assert sorted(ours(after_v6)) == sorted(EXPECTED_V6)
    assert after_v4[after_v4.index("-A PREROUTING -j LVS_FWMARK") + 1] == FOREIGN[0]  # first
    assert all(rule in after_v4 for rule in FOREIGN)
    # the diff's "after" is what the oracle lists
    live = sorted(line.split(": ", 1)[1] for line in first["rules"])
    assert live == sorted(ours(after_v4) + ours(after_v6))

    second = lab.module("fwmark", {"rules": rules}, diff=True)
    assert not second["changed"] and second["operations"] == [] and second["commands"] == []
    assert mangle(lab) == after_v4

    # a mark added to the chain by hand and a dropped mark both go; foreign rules stay
    lab.ssh(
        "iptables-legacy -t mangle -A LVS_FWMARK -d 192.0.2.99 -p tcp --dport 80 "
        "-j MARK --set-mark 9"
    )
    dropped = lab.module("fwmark", {"rules": RTSP[:1]})
    assert dropped["changed"]
    assert ours(mangle(lab)) == [EXPECTED_V4[0], EXPECTED_V4[1]]
    assert ours(mangle(lab, "ip6tables-legacy")) == []
    assert all(rule in mangle(lab) for rule in FOREIGN)

    gone = lab.module("fwmark", {"rules": []})
    assert gone["changed"] and gone["boot_command"] is None
    assert mangle(lab) == FOREIGN[:1] + FOREIGN[1:]
    assert lab.ssh("ls /etc/lvs/fwmark.sh", check=False).returncode != 0
    assert not lab.module("fwmark", {"rules": []})["changed"]


def test_boot_file_restores_the_marks(guest):
    lab = guest
    result = lab.module("fwmark", {"rules": [*RTSP, V6]})
    want_v4, want_v6 = mangle(lab), mangle(lab, "ip6tables-legacy")
    # a flush drops the jump and the rules (the chain stays); a reboot drops everything
    for wipe in ("-F", "-F; $t -t mangle -X"):
        lab.ssh(f"for t in iptables-legacy ip6tables-legacy; do $t -t mangle {wipe}; done")
        assert ours(mangle(lab)) == []
        lab.ssh(result["boot_command"])
        lab.ssh(result["boot_command"])  # twice: still one jump
        assert mangle(lab) == want_v4 and mangle(lab, "ip6tables-legacy") == want_v6
        assert not lab.module("fwmark", {"rules": [*RTSP, V6]})["changed"]


VIP, PORT, MARK = "192.0.2.80", 8554, 77
SERVICE = re.compile(rf"^FWM\s+{MARK}\s+(\d+)\s+(\d+)\s+\d+", re.M)


def fwm_stats(lab):
    """(connections, incoming packets) of the fwmark service, from ipvsadm."""
    match = SERVICE.search(lab.ssh("ipvsadm -Ln --stats").stdout)
    assert match, lab.ssh("ipvsadm -Ln --stats").stdout
    return int(match.group(1)), int(match.group(2))


@pytest.fixture
def fwmark_service(guest):
    """An IPVS fwmark service on dir1 whose real server is dir1 itself (local node), a
    VIP on eth0 and an HTTP server on the VIP's port."""
    lab = guest
    lab.ssh(
        f"ipvsadm -D -f {MARK} 2>/dev/null; systemctl stop fwmark-http 2>/dev/null; "
        f"ip addr replace {VIP}/32 dev eth0 && ipvsadm -A -f {MARK} -s rr && "
        f"ipvsadm -a -f {MARK} -r 192.0.2.11 -g && "
        f"systemd-run --unit fwmark-http python3 -m http.server {PORT} --directory /tmp"
    )
    yield lab
    lab.ssh(
        f"systemctl stop fwmark-http; ipvsadm -D -f {MARK}; ip addr del {VIP}/32 dev eth0",
        check=False,
    )


def test_marked_packets_reach_an_ipvs_fwmark_service(fwmark_service):
    lab = fwmark_service
    url = f"http://{VIP}:{PORT}/"

    def fetch(n):
        for _ in range(n):
            proc = lab.client("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", "5", url)
            assert proc.stdout == "200", proc.stderr

    wait_for("the HTTP server", lambda: lab.client("curl", "-s", "-m", "2", url).returncode == 0)
    # without marks the VIP answers (a local address) but IPVS sees none of it
    fetch(3)
    assert fwm_stats(lab) == (0, 0)

    lab.module(
        "fwmark",
        {"rules": [{"fwmark": MARK, "address": VIP, "protocol": "tcp", "port": str(PORT)}]},
    )
    fetch(5)

    def marked():
        listing = lab.ssh("iptables-legacy -t mangle -L LVS_FWMARK -n -v -x").stdout
        return int(listing.splitlines()[2].split()[0])

    # ipvsadm's counters lag about 2 s: wait until they account for every marked packet
    conns, packets = wait_for(
        "IPVS to count every marked packet",
        lambda: fwm_stats(lab)[1] == marked() and fwm_stats(lab),
        timeout=20,
    )
    assert conns == 5 and packets >= 5 * 5  # SYN, ACK, request, ACKs, FIN per connection
