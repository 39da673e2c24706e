"""Static mode: the lvs.cluster.ipvs module's table serves traffic and survives a reboot
of the director without Ansible (boot unit: table, VIPs, timeouts, sysctls)."""

from conftest import DR, NAT


def split(lab, vip, count):
    result = lab.probe("split", f"http://{vip}/", "--count", str(count))
    assert result["errors"] == []
    return result["servers"]


def test_weighted_dr_and_round_robin_nat(lab):
    assert split(lab, DR, 30) == {"rs1": 20, "rs2": 10}
    assert split(lab, NAT, 30) == {"rs1": 15, "rs2": 15}


def test_no_keepalived_in_static_mode(lab):
    assert lab.ssh("systemctl is-active keepalived", check=False).stdout.strip() != "active"


def test_director_reboot_restores_table_and_vips_without_ansible(lab):
    before = lab.ssh("ipvsadm -Sn").stdout
    assert "-A -t 192.0.2.100:80 -s wrr" in before
    lab.lvslab("stop", "dir1")
    lab.lvslab("start", "dir1")
    # ssh answers before boot is over: the unit waits for the network to be online
    lab.ssh("systemctl is-system-running --wait || true")
    assert lab.ssh("systemctl is-active lvs-director.service").stdout.strip() == "active"
    assert lab.ssh("ipvsadm -Sn").stdout == before
    assert "900 120 300" in lab.ssh("ipvsadm -L --timeout").stdout
    assert lab.ssh("sysctl -n net.ipv4.vs.secure_tcp net.ipv4.ip_forward").stdout.split() == [
        "1",
        "1",
    ]
    assert split(lab, DR, 30) == {"rs1": 20, "rs2": 10}
    assert split(lab, NAT, 30) == {"rs1": 15, "rs2": 15}
