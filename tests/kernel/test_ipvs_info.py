"""ipvs_info reads what ipvsadm reads, including counters from real traffic."""


def test_info_matches_ipvsadm(lab):
    lab.ssh(
        "ipvsadm -C && ipvsadm -R",
        input=(
            "-A -t 127.0.0.1:2222 -s rr\n"
            "-a -t 127.0.0.1:2222 -r 127.0.0.1:22 -m -w 3 -x 50 -y 5\n"
            "-A -f 4 -6 -s sh -b sh-port\n"
        ),
    )
    lab.ssh(
        "ipvsadm --set 1000 100 200 && ipvsadm --start-daemon backup "
        "--mcast-interface eth1 --syncid 4"
    )
    try:
        # a local client through the NAT service to sshd counts as traffic
        # the kernel folds its per-CPU counters into what it reports every 2 s: wait that
        lab.ssh("for i in 1 2 3; do echo | nc -w 2 127.0.0.1 2222 >/dev/null; done; sleep 4")
        result = lab.module("ipvs_info", {"stats": True})
    finally:
        lab.ssh("ipvsadm --stop-daemon backup; ipvsadm --set 900 120 300")
    info = result["ipvs"]
    assert not result["changed"] and info["available"]
    assert info["version"] == "1.2.1" and info["conn_tab_size"] > 0
    assert info["save"] == lab.ssh("ipvsadm -Sn").stdout.replace("-w 3\n", "-w 3 -x 50 -y 5\n")
    web = info["services"][0]
    assert (web["protocol"], web["port"], web["scheduler"]) == ("tcp", 2222, "rr")
    (dest,) = web["destinations"]
    assert (
        dest["forwarding"],
        dest["weight"],
        dest["upper_threshold"],
        dest["lower_threshold"],
    ) == ("nat", 3, 50, 5)
    exact = lab.ssh("ipvsadm -Ln --stats --exact -t 127.0.0.1:2222").stdout.splitlines()
    conns = int(next(x for x in exact if x.startswith("TCP")).split()[2])
    assert web["stats"]["conns"] == conns >= 3
    assert dest["stats"]["inpkts"] > 0 and dest["stats"]["outbytes"] > 0
    mark = info["services"][1]
    assert (mark["fwmark"], mark["family"], mark["hash_port"]) == (4, "ipv6", True)
    assert info["timeouts"] == {"tcp": 1000, "tcp_fin": 100, "udp": 200}
    assert [(d["role"], d["interface"], d["syncid"]) for d in info["sync_daemons"]] == [
        ("backup", "eth1", 4)
    ]
    lab.ssh("ipvsadm -C")
    assert lab.module("ipvs_info", {"stats": False})["ipvs"]["services"] == []
