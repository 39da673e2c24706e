"""The ipvs module against a real IPVS table, with `ipvsadm -Sn` in the guest as the oracle."""

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import SCHEDULERS


@pytest.fixture
def clean(lab):
    lab.ssh("modprobe ipv6; ipvsadm -C")
    yield lab
    lab.ssh("ipvsadm -C")


def save(lab):
    return lab.ssh("ipvsadm -Sn").stdout


def run(lab, services, **kw):
    check = kw.pop("check_mode", False)
    result = lab.module("ipvs", {"services": services, **kw}, check_mode=check, diff=True)
    assert not result.get("failed"), result.get("msg")
    return result


MIXED = [
    {
        "address": "192.0.2.10",
        "port": 80,
        "scheduler": "wrr",
        "destinations": [
            {"address": "192.0.2.21", "weight": 3},
            {"address": "192.0.2.22", "forwarding": "tun"},
            {"address": "198.51.100.21", "port": 8080, "forwarding": "nat", "weight": 0},
        ],
    },
    {
        "address": "192.0.2.10",
        "port": 53,
        "protocol": "udp",
        "scheduler": "sh",
        "persistence_timeout": 600,
        "persistence_netmask": "255.255.255.0",
        "one_packet": True,
        "hash_fallback": True,
        "hash_port": True,
        "destinations": [{"address": "192.0.2.21"}, {"address": "192.0.2.22"}],
    },
    {
        "address": "192.0.2.10",
        "port": 3868,
        "protocol": "sctp",
        "scheduler": "rr",
        "destinations": [
            {
                "address": "192.0.2.23",
                "forwarding": "tun",
                "tunnel_type": "gue",
                "tunnel_port": 6080,
                "tunnel_checksum": "remcsum",
            },
            {
                "address": "192.0.2.24",
                "forwarding": "tun",
                "tunnel_type": "gre",
                "tunnel_checksum": "csum",
            },
        ],
    },
    {
        "address": "192.0.2.10",
        "port": 0,
        "persistence_timeout": 120,
        "scheduler": "lc",
        "destinations": [{"address": "192.0.2.21", "port": 0}],
    },
    {
        "fwmark": 7,
        "scheduler": "mh",
        "hash_port": True,
        "persistence_timeout": 300,
        "destinations": [
            {"address": "192.0.2.21"},
            {"address": "198.51.100.22", "port": 8443, "forwarding": "nat"},
        ],
    },
]


def test_apply_matches_ipvsadm_then_no_change(clean):
    lab = clean
    first = run(lab, MIXED)
    assert first["changed"]
    assert first["diff"]["before"] == ""
    assert save(lab) == first["diff"]["after"]
    assert "-A -u 192.0.2.10:53 -s sh -p 600 -M 255.255.255.0 -o -b sh-fallback,sh-port\n" in save(
        lab
    )
    second = run(lab, MIXED)
    assert (second["changed"], second["operations"]) == (False, [])
    assert second["diff"]["before"] == second["diff"]["after"] == save(lab)


def test_check_mode_changes_nothing_and_predicts_exactly(clean):
    lab = clean
    run(lab, MIXED)
    before = save(lab)
    changed = [dict(s) for s in MIXED]
    changed[0] = {
        **changed[0],
        "scheduler": "wlc",
        "destinations": [{"address": "192.0.2.21", "weight": 5}, {"address": "192.0.2.25"}],
    }
    changed[1] = {**changed[1], "state": "absent"}
    predicted = run(lab, changed, check_mode=True)
    assert predicted["changed"]
    assert save(lab) == before  # byte-identical: the kernel was not touched
    assert predicted["diff"]["before"] == before
    real = run(lab, changed)
    assert real["operations"] == predicted["operations"]
    assert save(lab) == predicted["diff"]["after"] == real["diff"]["after"]


def test_check_mode_on_a_clean_table(clean):
    lab = clean
    predicted = run(lab, MIXED[:1], check_mode=True)
    assert predicted["changed"] and save(lab) == ""
    assert run(lab, MIXED[:1])["diff"]["after"] == predicted["diff"]["after"] == save(lab)


def test_edits_are_in_place(clean):
    lab = clean
    run(lab, MIXED[:1])
    edited = [
        {
            **MIXED[0],
            "scheduler": "lc",
            "destinations": [
                {
                    "address": "192.0.2.21",
                    "weight": 9,
                    "upper_threshold": 100,
                    "lower_threshold": 20,
                },
                {"address": "192.0.2.22", "forwarding": "dr"},
                {"address": "198.51.100.21", "port": 8080, "forwarding": "nat", "weight": 2},
            ],
        }
    ]
    result = run(lab, edited)
    assert result["operations"] == [
        "-E -t 192.0.2.10:80 -s lc",
        "-e -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 9 -x 100 -y 20",
        "-e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 1",
        "-e -t 192.0.2.10:80 -r 198.51.100.21:8080 -m -w 2",
    ]
    thresholds = lab.ssh("ipvsadm -Ln --thresholds -t 192.0.2.10:80").stdout
    assert "192.0.2.21:80" in thresholds
    line = next(x for x in thresholds.splitlines() if "192.0.2.21:80" in x)
    assert line.split()[2:4] == ["100", "20"]
    assert result["diff"]["after"].replace(" -x 100 -y 20", "") == save(lab)
    assert not run(lab, edited)["changed"]


def test_purge_removes_undeclared_services(clean):
    lab = clean
    lab.ssh(
        "ipvsadm -A -t 192.0.2.50:80 -s rr && ipvsadm -a -t 192.0.2.50:80 -r 192.0.2.21 "
        "&& ipvsadm -A -f 99 -s rr && ipvsadm -A -u 192.0.2.10:80"
    )
    kept = run(lab, MIXED[:1])
    assert "192.0.2.50" not in kept["diff"]["before"]  # without purge only declared are read
    assert "-A -t 192.0.2.50:80 -s rr" in save(lab)
    purged = run(lab, MIXED[:1], purge=True)
    assert purged["operations"] == ["-D -t 192.0.2.50:80", "-D -u 192.0.2.10:80", "-D -f 99"]
    assert "-A -f 99 -s rr\n" in purged["diff"]["before"]
    assert save(lab) == purged["diff"]["after"] == kept["diff"]["after"]
    assert not run(lab, MIXED[:1], purge=True)["changed"]


def test_state_absent(clean):
    lab = clean
    run(lab, MIXED[:2])
    result = run(lab, [{"address": "192.0.2.10", "port": 53, "protocol": "udp", "state": "absent"}])
    assert result["operations"] == ["-D -u 192.0.2.10:53"]
    assert "192.0.2.10:53" not in save(lab) and "192.0.2.10:80" in save(lab)
    assert not run(
        lab, [{"address": "192.0.2.10", "port": 53, "protocol": "udp", "state": "absent"}]
    )["changed"]


IPV6 = [
    {
        "address": "2001:db8::10",
        "port": 443,
        "scheduler": "wlc",
        "persistence_timeout": 60,
        "persistence_netmask": "64",
        "destinations": [
            {"address": "2001:db8::21"},
            {"address": "2001:db8:1::21", "port": 8443, "forwarding": "nat", "weight": 4},
        ],
    },
    {
        "fwmark": 12,
        "family": "ipv6",
        "scheduler": "rr",
        "destinations": [{"address": "2001:db8::22"}],
    },
]


def test_ipv6_and_fwmark(clean):
    lab = clean
    result = run(lab, IPV6)
    assert save(lab) == result["diff"]["after"]
    assert "-A -t [2001:db8::10]:443 -s wlc -p 60 -M 64\n" in save(lab)
    assert "-A -f 12 -6 -s rr\n" in save(lab)
    assert "-a -f 12 -6 -r [2001:db8::22]:0 -g -w 1\n" in save(lab)
    # the same addresses spelled otherwise are the same services
    respelled = [{**IPV6[0], "address": "2001:DB8:0:0::10"}, IPV6[1]]
    assert not run(lab, respelled)["changed"]


def test_every_scheduler_added_then_switched_in_place(clean):
    lab = clean
    services = [
        {
            "address": "192.0.2.10",
            "port": 1000 + i,
            "scheduler": name,
            "destinations": [{"address": "192.0.2.21"}, {"address": "192.0.2.22"}],
        }
        for i, name in enumerate(SCHEDULERS)
    ]
    run(lab, services)
    table = save(lab)
    for i, name in enumerate(SCHEDULERS):
        assert f"-A -t 192.0.2.10:{1000 + i} -s {name}\n" in table
    rotated = [
        {**s, "scheduler": SCHEDULERS[(i + 1) % len(SCHEDULERS)]} for i, s in enumerate(services)
    ]
    result = run(lab, rotated)
    assert all(op.startswith("-E ") for op in result["operations"])
    assert len(result["operations"]) == len(SCHEDULERS)
    assert save(lab) == result["diff"]["after"]


def test_drain_then_remove(clean):
    lab = clean
    run(lab, MIXED[:1])
    fewer = [{**MIXED[0], "destinations": MIXED[0]["destinations"][:1]}]
    first = run(lab, fewer, drain=True)
    # the NAT server is at weight 0 already and idle: it goes at once; the other drains
    assert first["operations"] == [
        "-e -t 192.0.2.10:80 -r 192.0.2.22:80 -i -w 0 --tun-type ipip",
        "-d -t 192.0.2.10:80 -r 198.51.100.21:8080",
    ]
    assert first["draining"] == ["tcp 192.0.2.10:80 -> 192.0.2.22:80"]
    assert "-r 192.0.2.22:80 -i -w 0" in save(lab)
    second = run(lab, fewer, drain=True)  # no connections came: deleted now
    assert second["operations"] == ["-d -t 192.0.2.10:80 -r 192.0.2.22:80"]
    assert save(lab) == second["diff"]["after"]
    assert not run(lab, fewer, drain=True)["changed"]


def test_bad_input_fails_before_touching_the_kernel(clean):
    lab = clean
    run(lab, MIXED[:1])
    before = save(lab)
    bad = [
        [{"address": "192.0.2.300", "port": 80}],
        [
            {
                "address": "192.0.2.10",
                "port": 80,
                "destinations": [{"address": "192.0.2.21", "weight": 70000}],
            }
        ],
        [{"address": "192.0.2.10", "port": 80, "scheduler": "xyz"}],
        [{"address": "192.0.2.10", "port": 80, "fwmark": 3}],
        [{"address": "192.0.2.10", "port": 80, "destinations": [{"address": "2001:db8::1"}]}],
        [
            {
                "address": "192.0.2.10",
                "port": 80,
                "destinations": [{"address": "192.0.2.21", "port": 81}],
            }
        ],
        [{"address": "192.0.2.11", "port": 80}, {"address": "192.0.2.11", "port": 80}],
    ]
    for services in bad:
        result = lab.module("ipvs", {"services": services})
        assert result.get("failed"), services
        assert result["msg"]
    assert save(lab) == before


def test_kernel_refusal_part_way_is_reported_and_rerun_converges(clean):
    lab = clean
    # the kernel refuses a mixed-family (tunnel) destination while a sync daemon runs:
    # input checks cannot know that, so the refusal comes part way through the batch
    lab.ssh(
        "ipvsadm --stop-daemon master; ipvsadm --start-daemon master --mcast-interface eth1",
        check=False,
    )
    services = [
        {"address": "192.0.2.10", "port": 80, "destinations": [{"address": "192.0.2.21"}]},
        {
            "address": "192.0.2.10",
            "port": 81,
            "destinations": [
                {"address": "192.0.2.22"},
                {"address": "2001:db8::22", "forwarding": "tun"},
            ],
        },
    ]
    try:
        failed = lab.module("ipvs", {"services": services}, diff=True)
    finally:
        lab.ssh("ipvsadm --stop-daemon master")
    assert failed["failed"]
    assert "refused 1 of 5 changes" in failed["msg"], failed["msg"]
    assert failed["applied"] == [
        "-A -t 192.0.2.10:80 -s wlc",
        "-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1",
        "-A -t 192.0.2.10:81 -s wlc",
        "-a -t 192.0.2.10:81 -r 192.0.2.22:81 -g -w 1",
    ]
    assert failed["refused"][0].startswith(
        "-a -t 192.0.2.10:81 -r [2001:db8::22]:81 -i -w 1 --tun-type ipip: the kernel rejected"
    )
    table = save(lab)
    assert all(line + "\n" in table for line in failed["applied"])
    assert failed["diff"]["after"] == table  # the diff shows what was really applied
    again = run(lab, services)
    assert again["operations"] == [
        "-a -t 192.0.2.10:81 -r [2001:db8::22]:81 -i -w 1 --tun-type ipip"
    ]
    assert save(lab) == again["diff"]["after"]
    assert not run(lab, services)["changed"]
