"""ipvs_timeouts against the kernel, with `ipvsadm -L --timeout` as the oracle."""

import pytest


@pytest.fixture
def defaults(lab):
    lab.ssh("ipvsadm --set 900 120 300")
    yield lab
    lab.ssh("ipvsadm --set 900 120 300")


def listing(lab):
    return lab.ssh("ipvsadm -L --timeout").stdout.strip()


def test_set_timeouts_check_mode_diff_and_rerun(defaults):
    lab = defaults
    args = {"tcp": 3600, "tcp_fin": 60, "udp": 30}
    check = lab.module("ipvs_timeouts", args, check_mode=True, diff=True)
    assert check["changed"]
    assert listing(lab) == "Timeout (tcp tcpfin udp): 900 120 300"
    assert check["diff"]["before"].strip() == listing(lab)
    result = lab.module("ipvs_timeouts", args, diff=True)
    assert result["changed"] and result["timeouts"] == {"tcp": 3600, "tcp_fin": 60, "udp": 30}
    assert listing(lab) == "Timeout (tcp tcpfin udp): 3600 60 30"
    assert result["diff"]["after"].strip() == listing(lab) == check["diff"]["after"].strip()
    assert not lab.module("ipvs_timeouts", args)["changed"]


def test_only_given_timeouts_change(defaults):
    lab = defaults
    result = lab.module("ipvs_timeouts", {"udp": 45})
    assert result["changed"]
    assert listing(lab) == "Timeout (tcp tcpfin udp): 900 120 45"


def test_zero_is_refused(defaults):
    lab = defaults
    result = lab.module("ipvs_timeouts", {"tcp": 0})
    assert result["failed"] and "tcp must be from 1" in result["msg"]
    assert listing(lab) == "Timeout (tcp tcpfin udp): 900 120 300"
