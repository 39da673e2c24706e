"""A director and a real server reboot: everything comes back without Ansible,
the real server's NFS document root included."""

from conftest import DR, NAT, REAL_SERVERS, TUN, holds, wait_for, weights


def test_reboot_of_backup_director_and_a_real_server(lab):
    for guest in ("dir2", "rs1"):
        lab.lvslab("stop", guest)
        lab.lvslab("start", guest)
    # dir2: keepalived back as backup, sync daemons and timeouts restored by the boot unit
    wait_for(
        "keepalived on dir2",
        lambda: (
            lab.ssh("systemctl is-active keepalived", guest="dir2", check=False).stdout.strip()
            == "active"
        ),
        60,
    )
    daemons = lab.ssh("ipvsadm -L --daemon", guest="dir2").stdout
    assert "master sync daemon" in daemons and "backup sync daemon" in daemons
    assert "900 120 300" in lab.ssh("ipvsadm -L --timeout", guest="dir2").stdout
    assert "ip_vs_wrr" in lab.ssh("cat /proc/modules", guest="dir2").stdout
    assert lab.ssh("sysctl -n net.ipv4.vs.secure_tcp", guest="dir2").stdout.strip() == "1"
    assert holds(lab, "dir1", DR) and not holds(lab, "dir2", DR)
    # rs1: VIPs, tunnel, NAT rule and nginx back; it rejoins every pool
    for vip in (DR, TUN, NAT):
        wait_for(
            f"rs1 back on {vip}", lambda v=vip: all(w > 0 for w in weights(lab, v).values()), 60
        )
    for vip in (DR, NAT):
        result = lab.probe("split", f"http://{vip}/", "--count", "9")
        assert result["errors"] == [] and result["servers"] == {rs: 3 for rs in REAL_SERVERS}
    # rs1's document root is the NFS export again, mounted by its unit before nginx started
    assert lab.ssh("findmnt -n -o FSTYPE /srv/www", guest="rs1").stdout.strip() == "nfs4"
    lab.ssh("echo after-reboot > /srv/nfs/www/after-reboot.txt", guest="nfs1")
    result = lab.probe("split", f"http://{DR}/after-reboot.txt", "--count", "9", "--body")
    assert result["errors"] == [] and result["servers"] == {rs: 3 for rs in REAL_SERVERS}
    assert result["bodies"] == ["after-reboot"]
