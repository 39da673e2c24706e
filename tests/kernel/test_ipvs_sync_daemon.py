"""ipvs_sync_daemon against the kernel, with `ipvsadm -L --daemon` as the oracle."""

import pytest


@pytest.fixture
def no_daemons(lab):
    lab.ssh("ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; true")
    yield lab
    lab.ssh("ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; true")


def daemons(lab):
    return lab.ssh("ipvsadm -L --daemon").stdout


def run(lab, items, **kw):
    result = lab.module("ipvs_sync_daemon", {"daemons": items}, diff=True, **kw)
    assert not result.get("failed"), result.get("msg")
    return result


BOTH = [
    {
        "role": "master",
        "interface": "eth1",
        "syncid": 10,
        "sync_maxlen": 1400,
        "mcast_group": "239.0.0.81",
        "mcast_port": 8850,
        "mcast_ttl": 2,
    },
    {"role": "backup", "interface": "eth1", "syncid": 10},
]


def test_master_and_backup_at_once_then_no_change(no_daemons):
    lab = no_daemons
    check = run(lab, BOTH, check_mode=True)
    assert check["changed"] and daemons(lab) == ""
    first = run(lab, BOTH)
    assert first["operations"] == ["start master", "start backup"]
    listing = daemons(lab)
    assert (
        "master sync daemon (mcast=eth1, syncid=10, maxlen=1400, group=239.0.0.81, "
        "port=8850, ttl=2)"
    ) in listing
    assert "backup sync daemon (mcast=eth1, syncid=10" in listing
    assert first["diff"]["after"] == listing == check["diff"]["after"]
    roles = {d["role"]: d for d in first["daemons"]}
    assert roles["backup"]["mcast_port"] == 8848  # kernel default, read back
    again = run(lab, BOTH)
    assert (again["changed"], again["operations"]) == (False, [])


def test_changed_settings_restart_only_that_daemon(no_daemons):
    lab = no_daemons
    run(lab, BOTH)
    changed = [BOTH[0], {**BOTH[1], "interface": "eth0", "syncid": 11}]
    result = run(lab, changed)
    assert result["operations"] == ["stop backup", "start backup"]
    assert "backup sync daemon (mcast=eth0, syncid=11" in daemons(lab)
    assert "master sync daemon (mcast=eth1, syncid=10" in daemons(lab)


def test_absent_stops_one_daemon(no_daemons):
    lab = no_daemons
    run(lab, BOTH)
    result = run(lab, [{"role": "master", "state": "absent"}])
    assert result["operations"] == ["stop master"]
    assert "master" not in daemons(lab) and "backup" in daemons(lab)
    assert not run(lab, [{"role": "master", "state": "absent"}])["changed"]


def test_missing_interface_is_a_clear_error(no_daemons):
    lab = no_daemons
    result = lab.module(
        "ipvs_sync_daemon", {"daemons": [{"role": "master", "interface": "nosuch0"}]}
    )
    assert result["failed"]
    assert "interface 'nosuch0' does not exist" in result["msg"]


def test_ipv6_group_with_kernel_defaults_predicted(no_daemons):
    lab = no_daemons
    lab.ssh("modprobe ipv6")
    item = [{"role": "backup", "interface": "eth1", "syncid": 3, "mcast_group": "ff02::81"}]
    check = run(lab, item, check_mode=True)
    result = run(lab, item)
    listing = daemons(lab)
    assert listing == (
        "backup sync daemon (mcast=eth1, syncid=3, maxlen=1452, group=ff02::81, port=8848, ttl=1)\n"
    )
    assert check["diff"]["after"] == result["diff"]["after"] == listing
    assert not run(lab, item)["changed"]
