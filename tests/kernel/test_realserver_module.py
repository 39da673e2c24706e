"""lvs.cluster.realserver and lvs.cluster.sysctl on the smoke lab's guest.

The oracles are the guest's own tools, independent of the modules' reads: `ip -o addr`,
`ip rule`, `ip route show table 100`, `sysctl -n`. Each test leaves dir1 as it found it
(addresses, rule, table, sysctls, boot files, the unit).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DR, DR6, TUN = "192.0.2.200", "2001:db8::200", "192.0.2.201"
NAT = {
    "gateway": "198.51.100.1",
    "interface": "eth1",
    "source": "198.51.100.11",
    "network": "198.51.100.0/24",
}
FULL = {
    "vips": [
        {"address": DR, "method": "dr"},
        {"address": DR6, "method": "dr"},
        {"address": TUN, "method": "tun", "services": ["web"]},
    ],
    "nat": NAT,
    "interfaces": ["eth0", "eth1"],
}
KEYS = [
    f"net.ipv4.conf.{dev}.{key}"
    for dev in ("all", "eth0", "eth1")
    for key in ("arp_ignore", "arp_announce", "rp_filter")
]
ORACLE = (
    "ip -o addr show dev lvs0 2>&1 | grep -v fe80 | awk '{print $2, $4}';"
    " ip -o -4 addr show dev tunl0 2>&1 | awk '{print $2, $4}';"
    " ip -4 rule; ip -4 route show table 100;"
    " sysctl -n " + " ".join(KEYS) + " net.ipv4.conf.tunl0.rp_filter 2>&1"
)
BOOT_FILES = (
    "/etc/lvs-realserver.json /etc/modules-load.d/lvs-realserver.conf"
    " /etc/sysctl.d/60-lvs-realserver.conf /etc/systemd/system/lvs-realserver.service"
    " /usr/local/sbin/lvs-realserver /usr/local/lib/lvs-cluster"
)


def state(lab) -> str:
    return lab.ssh(ORACLE).stdout


def boot_files(lab) -> str:
    return lab.ssh(f"ls -d {BOOT_FILES} 2>/dev/null; true").stdout


def run(lab, params, check_mode=False) -> dict:
    result = lab.module("realserver", params, check_mode=check_mode, diff=True)
    assert not result.get("failed"), result.get("msg")
    return result


@pytest.fixture
def clean(lab):
    """dir1 without anything of ours, its sysctls put back afterwards."""
    lab.ssh("modprobe ipv6")
    saved = lab.ssh("sysctl " + " ".join(KEYS)).stdout
    yield lab
    lab.module("realserver", {"vips": [], "nat": None})
    lab.ssh(
        "systemctl disable --now lvs-realserver.service 2>/dev/null;"
        f" rm -rf {BOOT_FILES}; systemctl daemon-reload;"
        " ip link del lvs0 2>/dev/null; ip addr flush dev tunl0 2>/dev/null;"
        " while ip -4 rule del table 100 2>/dev/null; do :; done; ip route flush table 100;"
        " sysctl -q -w " + " ".join(line.replace(" ", "") for line in saved.splitlines()),
        check=False,
    )


def test_apply_check_mode_diff_and_rerun(clean):
    lab = clean
    before, files_before = state(lab), boot_files(lab)
    check = run(lab, FULL, check_mode=True)
    assert check["changed"] and check["operations"]
    assert state(lab) == before and boot_files(lab) == files_before

    applied = run(lab, FULL)
    assert applied["changed"]
    assert applied["operations"] == check["operations"]
    got = state(lab)
    assert f"lvs0 {DR}/32" in got and f"lvs0 {DR6}/128" in got, got
    assert f"tunl0 {TUN}/32" in got, got
    assert "100:\tfrom 198.51.100.11 lookup 100" in got, got
    assert "default via 198.51.100.1 dev eth1" in got, got
    assert "198.51.100.0/24 dev eth1 scope link src 198.51.100.11" in got, got
    values = got.split("\n")[-11:-1]
    # arp_ignore 1, arp_announce 2, rp_filter 0 on all, eth0, eth1, and tunl0
    assert values == ["1", "2", "0"] * 3 + ["0"], got
    # the diff predicted exactly what the host now holds
    assert check["diff"]["after"] == applied["diff"]["after"] == applied["state"]

    rerun = run(lab, FULL)
    assert not rerun["changed"] and rerun["operations"] == []
    assert rerun["diff"]["before"] == rerun["diff"]["after"] == applied["state"]
    assert lab.ssh(
        "systemctl is-enabled lvs-realserver; systemctl is-active lvs-realserver"
    ).stdout.split() == [
        "enabled",
        "active",
    ]


def test_undeclared_objects_are_removed(clean):
    lab = clean
    run(lab, FULL)
    only_dr = {
        "vips": [{"address": DR, "method": "dr"}],
        "nat": None,
        "interfaces": ["eth0", "eth1"],
    }
    before = state(lab)
    check = run(lab, only_dr, check_mode=True)
    assert check["changed"] and state(lab) == before
    result = run(lab, only_dr)
    assert result["diff"]["after"] == result["state"] == check["diff"]["after"]
    got = lab.ssh("ip -o addr show dev lvs0; ip -o addr show dev tunl0; ip -4 rule").stdout
    assert DR6 not in got and TUN not in got and "lookup 100" not in got, got
    assert f"{DR}/32" in got
    assert lab.ssh("ip -4 route show table 100").stdout.strip() == ""
    assert not run(lab, only_dr)["changed"]
    # nothing declared: the dummy device goes
    assert run(lab, {"vips": [], "nat": None})["changed"]
    assert lab.ssh("ip link show lvs0", check=False).returncode != 0


def test_an_interrupted_run_is_completed_by_the_next(clean):
    """Files in place, live state lost (a run killed after its file writes, or a flush):
    the next run finds the live differences and repairs them without writing a file."""
    lab = clean
    run(lab, FULL)
    converged = state(lab)
    lab.ssh(FLUSH)
    assert state(lab) != converged
    repair = run(lab, FULL)
    assert repair["changed"]
    assert not [op for op in repair["operations"] if op.startswith("write ")], repair
    assert state(lab) == converged


FLUSH = (
    "ip link del lvs0; ip addr flush dev tunl0; ip -4 rule del priority 100;"
    " ip route flush table 100; sysctl -q -w net.ipv4.conf.all.arp_ignore=0"
    " net.ipv4.conf.eth0.arp_announce=0 net.ipv4.conf.tunl0.rp_filter=1"
)


def test_the_boot_unit_restores_the_state_with_the_installed_code(clean):
    lab = clean
    run(lab, FULL)
    converged = state(lab)
    # the installed copy is the collection's code, byte for byte
    package = "/usr/local/lib/lvs-cluster/ansible_collections/lvs/cluster/plugins/module_utils"
    for name in ("hostcode", "sysctl", "realserver"):
        theirs = lab.ssh(f"sha256sum {package}/{name}.py").stdout.split()[0]
        ours = hashlib.sha256((REPO / "plugins/module_utils" / f"{name}.py").read_bytes())
        assert theirs == ours.hexdigest(), name
    exec_start = lab.ssh(
        "systemctl show -p ExecStart --value lvs-realserver"
        " | sed 's/.*argv\\[\\]=\\([^;]*\\);.*/\\1/'"
    ).stdout.strip()
    assert (
        exec_start
        == "/usr/local/sbin/lvs-realserver apply --state /etc/lvs-realserver.json --wait 30"
    )
    lab.ssh(FLUSH)
    assert state(lab) != converged
    out = lab.ssh(exec_start).stdout
    assert '"changed": true' in out, out
    assert state(lab) == converged
    # and through systemd, as at boot
    lab.ssh(FLUSH + "; systemctl restart lvs-realserver.service")
    assert state(lab) == converged
    assert '"changed": false' in lab.ssh("/usr/local/sbin/lvs-realserver apply --check").stdout


# --------------------------------------------------------------------------- sysctl

SYSCTLS = {
    "net.ipv4.vs.drop_entry": 1,
    "net.ipv4.vs.sync_threshold": [5, 40],
    "net.ipv4.vs.am_droprate": 20,
}
SYSCTL_FILE = "/etc/sysctl.d/60-lvs-test.conf"


def live(lab) -> list[str]:
    return lab.ssh("sysctl -n " + " ".join(SYSCTLS)).stdout.split("\n")[:-1]


@pytest.fixture
def ipvs_keys(lab):
    lab.ssh("modprobe ip_vs")
    saved = live(lab)
    yield lab
    lab.ssh(f"rm -f {SYSCTL_FILE}")
    for key, value in zip(SYSCTLS, saved, strict=True):
        lab.ssh(f"sysctl -q -w {key}='{value}'")


def test_sysctl_batch_check_mode_rerun_and_repair(ipvs_keys):
    lab = ipvs_keys
    args = {"values": SYSCTLS, "path": SYSCTL_FILE}
    before = live(lab)
    assert before != ["1", "5\t40", "20"]
    check = lab.module("sysctl", args, check_mode=True, diff=True)
    assert check["changed"] and check["file_changed"]
    assert live(lab) == before
    assert lab.ssh(f"test -e {SYSCTL_FILE}", check=False).returncode == 1
    result = lab.module("sysctl", args, diff=True)
    assert result["changed"] and result["changed_keys"] == check["changed_keys"]
    assert live(lab) == ["1", "5\t40", "20"]
    assert lab.ssh(f"cat {SYSCTL_FILE}").stdout.splitlines()[1:] == [
        "net.ipv4.vs.am_droprate = 20",
        "net.ipv4.vs.drop_entry = 1",
        "net.ipv4.vs.sync_threshold = 5 40",
    ]
    assert result["diff"] == check["diff"]
    assert not lab.module("sysctl", args)["changed"]
    # the file stayed, the live value went: the next run sets it, the file untouched
    lab.ssh("sysctl -q -w net.ipv4.vs.drop_entry=0")
    repair = lab.module("sysctl", args)
    assert repair["changed"] and not repair["file_changed"]
    assert list(repair["changed_keys"]) == ["net.ipv4.vs.drop_entry"]
    assert live(lab) == ["1", "5\t40", "20"]
    # systemd-sysctl reads the file as at boot
    lab.ssh("sysctl -q -w net.ipv4.vs.drop_entry=0; /lib/systemd/systemd-sysctl " + SYSCTL_FILE)
    assert live(lab)[0] == "1"


def test_sysctl_unknown_key_fails_by_name(ipvs_keys):
    result = ipvs_keys.module("sysctl", {"values": {"net.ipv4.vs.no_such_key": 1}})
    assert result["failed"] and "net.ipv4.vs.no_such_key" in result["msg"]
