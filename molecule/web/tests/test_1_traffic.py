"""Traffic from the client side through each VIP, as each scheduler says."""

from conftest import CA, DR, NAT, REAL_SERVERS, TUN, holds, wait_for, weights


def test_master_director_holds_every_vip_and_the_inside_vip(lab):
    for address in (DR, TUN, NAT, "198.51.100.1"):
        assert wait_for(f"{address} on dir1", lambda a=address: holds(lab, "dir1", a), 30)
        assert not holds(lab, "dir2", address)


def test_every_real_server_is_in_every_pool(lab):
    for vip in (DR, TUN, NAT):
        wait_for(
            f"all real servers up on {vip}",
            lambda v=vip: all(w > 0 for w in weights(lab, v).values()),
            30,
        )


def test_dr_round_robin_is_exactly_even(lab):
    result = lab.probe("split", f"http://{DR}/", "--count", "30")
    assert result["errors"] == []
    assert result["servers"] == {rs: 10 for rs in REAL_SERVERS}


def test_tun_weighted_round_robin_follows_the_weights(lab):
    # weights 3:2:1; 60 connections are ten whole wrr cycles
    result = lab.probe("split", f"http://{TUN}/", "--count", "60")
    assert result["errors"] == []
    assert result["servers"] == {"rs1": 30, "rs2": 20, "rs3": 10}


def test_nat_round_robin_is_exactly_even(lab):
    result = lab.probe("split", f"http://{NAT}/", "--count", "30")
    assert result["errors"] == []
    assert result["servers"] == {rs: 10 for rs in REAL_SERVERS}


def test_https_works_and_persistence_keeps_each_client_on_one_server(lab):
    seen = set()
    for source in ("203.0.113.11", "203.0.113.12", "203.0.113.13", "203.0.113.14"):
        result = lab.probe(
            "split", f"https://{DR}/", "--count", "6", "--source", source, "--cacert", str(CA)
        )
        assert result["errors"] == []
        assert len(result["servers"]) == 1, (source, result)
        seen |= set(result["servers"])
    # different clients are still spread over the pool
    assert len(seen) > 1


def test_directors_run_both_sync_daemons_timeouts_and_dos_defences(lab):
    for guest in ("dir1", "dir2"):
        daemons = lab.ssh("ipvsadm -L --daemon", guest=guest).stdout
        assert "master sync daemon (mcast=eth1, syncid=51" in daemons
        assert "backup sync daemon (mcast=eth1, syncid=51" in daemons
        assert "900 120 300" in lab.ssh("ipvsadm -L --timeout", guest=guest).stdout
        values = lab.ssh(
            "sysctl -n net.ipv4.vs.drop_entry net.ipv4.vs.drop_packet "
            "net.ipv4.vs.secure_tcp net.ipv4.ip_forward",
            guest=guest,
        ).stdout
        assert values.split() == ["1", "1", "1", "1"]
