"""Planner as tables: current table (ipvsadm-save text) + desired -> operations."""

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_args import parse_services
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    Destination,
    Service,
    render,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_plan import plan, simulate

WEB = {"address": "192.0.2.10", "port": 80, "scheduler": "wrr"}


def svc(**kw):
    return {**WEB, **kw}


def dst(address, **kw):
    return {"address": address, **kw}


def table(*services):
    """Current table from declarations (what the kernel would report)."""
    return [s for s, state in parse_services(list(services)) if state == "present"]


CASES = [
    # (id, current, desired, options, expected operations)
    (
        "empty to one service",
        [],
        [svc(destinations=[dst("192.0.2.21"), dst("192.0.2.22")])],
        {},
        [
            "-A -t 192.0.2.10:80 -s wrr",
            "-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 1",
            "-a -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 1",
        ],
    ),
    (
        "no-op",
        [svc(destinations=[dst("192.0.2.21", weight=5)])],
        [svc(destinations=[dst("192.0.2.21", weight=5)])],
        {},
        [],
    ),
    (
        "no-op, destinations listed in another order and address spelling",
        [svc(address="2001:db8::10", destinations=[dst("2001:db8::21"), dst("2001:db8::22")])],
        [
            svc(
                address="2001:DB8:0::10",
                destinations=[dst("2001:db8:0:0::22"), dst("2001:db8::21")],
            )
        ],
        {},
        [],
    ),
    (
        "weight change edits in place",
        [svc(destinations=[dst("192.0.2.21", weight=1)])],
        [svc(destinations=[dst("192.0.2.21", weight=7)])],
        {},
        ["-e -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 7"],
    ),
    (
        "forwarding and thresholds edit in place",
        [svc(destinations=[dst("192.0.2.21")])],
        [
            svc(
                destinations=[
                    dst("192.0.2.21", forwarding="tun", upper_threshold=50, lower_threshold=5)
                ]
            )
        ],
        {},
        ["-e -t 192.0.2.10:80 -r 192.0.2.21:80 -i -w 1 --tun-type ipip -x 50 -y 5"],
    ),
    (
        "scheduler change edits the service in place, destinations untouched",
        [svc(destinations=[dst("192.0.2.21")])],
        [svc(scheduler="lc", destinations=[dst("192.0.2.21")])],
        {},
        ["-E -t 192.0.2.10:80 -s lc"],
    ),
    (
        "persistence on, then netmask only",
        [svc()],
        [svc(persistence_timeout=300, persistence_netmask="24")],
        {},
        ["-E -t 192.0.2.10:80 -s wrr -p 300 -M 255.255.255.0"],
    ),
    ("timeout of a non-persistent service does not matter", [svc()], [svc()], {}, []),
    (
        "nat port change is a new destination",
        [svc(destinations=[dst("198.51.100.21", port=8080, forwarding="nat")])],
        [svc(destinations=[dst("198.51.100.21", port=8081, forwarding="nat")])],
        {},
        [
            "-a -t 192.0.2.10:80 -r 198.51.100.21:8081 -m -w 1",
            "-d -t 192.0.2.10:80 -r 198.51.100.21:8080",
        ],
    ),
    (
        "removed destination",
        [svc(destinations=[dst("192.0.2.21"), dst("192.0.2.22")])],
        [svc(destinations=[dst("192.0.2.21")])],
        {},
        ["-d -t 192.0.2.10:80 -r 192.0.2.22:80"],
    ),
    (
        "removed destination drains first",
        [svc(destinations=[dst("192.0.2.21"), dst("192.0.2.22", weight=3)])],
        [svc(destinations=[dst("192.0.2.21")])],
        {"drain": True},
        ["-e -t 192.0.2.10:80 -r 192.0.2.22:80 -g -w 0"],
    ),
    (
        "drained idle destination is deleted",
        [svc(destinations=[dst("192.0.2.21"), dst("192.0.2.22", weight=0)])],
        [svc(destinations=[dst("192.0.2.21")])],
        {"drain": True},
        ["-d -t 192.0.2.10:80 -r 192.0.2.22:80"],
    ),
    (
        "absent service",
        [svc(destinations=[dst("192.0.2.21")])],
        [svc(state="absent")],
        {},
        ["-D -t 192.0.2.10:80"],
    ),
    ("absent service that is not there is a no-op", [], [svc(state="absent")], {}, []),
    (
        "undeclared service kept without purge",
        [svc(port=443)],
        [svc()],
        {},
        ["-A -t 192.0.2.10:80 -s wrr"],
    ),
    (
        "purge removes undeclared services after the declared ones are built",
        [svc(port=443), {"fwmark": 3, "destinations": [dst("192.0.2.21", port=0)]}],
        [svc()],
        {"purge": True},
        ["-A -t 192.0.2.10:80 -s wrr", "-D -t 192.0.2.10:443", "-D -f 3"],
    ),
    (
        "purge with drain zeroes weights first",
        [svc(port=443, destinations=[dst("192.0.2.21", port=443)])],
        [],
        {"purge": True, "drain": True},
        ["-e -t 192.0.2.10:443 -r 192.0.2.21:443 -g -w 0"],
    ),
    (
        "purge of a table already in shape is a no-op",
        [svc(destinations=[dst("192.0.2.21")])],
        [svc(destinations=[dst("192.0.2.21")])],
        {"purge": True},
        [],
    ),
    (
        "fwmark and protocol are part of identity",
        [svc(protocol="udp")],
        [svc(protocol="tcp")],
        {},
        ["-A -t 192.0.2.10:80 -s wrr"],
    ),
    (
        "ipv6 fwmark service with sh flags",
        [],
        [
            {
                "fwmark": 9,
                "family": "ipv6",
                "scheduler": "sh",
                "hash_fallback": True,
                "hash_port": True,
                "destinations": [dst("2001:db8::21", port=0)],
            }
        ],
        {},
        ["-A -f 9 -6 -s sh -b sh-fallback,sh-port", "-a -f 9 -6 -r [2001:db8::21]:0 -g -w 1"],
    ),
    (
        "services built in table order",
        [],
        [svc(port=443), {"address": "192.0.2.9", "port": 80, "protocol": "udp"}, svc()],
        {},
        ["-A -t 192.0.2.10:80 -s wrr", "-A -t 192.0.2.10:443 -s wrr", "-A -u 192.0.2.9:80 -s wlc"],
    ),
]


@pytest.mark.parametrize(
    ("current", "desired", "options", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(current, desired, options, expected):
    result = plan(table(*current), parse_services(desired), **options)
    assert [op.describe() for op in result.ops] == expected
    # a plan applied to its own result changes nothing more (unless draining waits)
    after = simulate(table(*current), result.ops)
    again = plan(after, parse_services(desired), **options)
    if not options.get("drain"):
        assert again.ops == []


def test_drain_keeps_busy_destination_until_idle():
    current = table(svc(destinations=[dst("192.0.2.21"), dst("192.0.2.22", weight=0)]))
    current[0].destinations[1].active_conns = 2
    result = plan(current, parse_services([svc(destinations=[dst("192.0.2.21")])]), drain=True)
    assert result.ops == []
    assert result.draining == ["tcp 192.0.2.10:80 -> 192.0.2.22:80"]


def test_drain_of_removed_service_waits_for_connections():
    current = table(svc(destinations=[dst("192.0.2.21", weight=0)]))
    current[0].destinations[0].persistent_conns = 1
    result = plan(current, parse_services([svc(state="absent")]), drain=True)
    assert (result.ops, result.draining) == ([], ["tcp 192.0.2.10:80"])
    current[0].destinations[0].persistent_conns = 0
    result = plan(current, parse_services([svc(state="absent")]), drain=True)
    assert [op.describe() for op in result.ops] == ["-D -t 192.0.2.10:80"]


def test_simulate_keeps_counters_of_edited_destinations():
    current = table(svc(destinations=[dst("192.0.2.21")]))
    current[0].destinations[0].active_conns = 4
    result = plan(current, parse_services([svc(destinations=[dst("192.0.2.21", weight=9)])]))
    (after,) = simulate(current, result.ops)
    assert (after.destinations[0].weight, after.destinations[0].active_conns) == (9, 4)
    assert current[0].destinations[0].weight == 1  # the input is not modified


def test_render_matches_ipvsadm_save_layout():
    services = [
        Service(
            protocol="udp",
            address="192.0.2.10",
            port=53,
            scheduler="sh",
            flags=0x1 | 0x4 | 0x8,
            timeout=600,
            netmask=0xFFFFFF00,
        ),
        Service(
            protocol="tcp",
            address="192.0.2.10",
            port=80,
            scheduler="wrr",
            destinations=[
                Destination(
                    "198.51.100.21",
                    8080,
                    weight=0,
                    forwarding="nat",
                    upper_threshold=100,
                    lower_threshold=10,
                ),
                Destination(
                    "192.0.2.22",
                    80,
                    forwarding="tun",
                    tunnel_type="gue",
                    tunnel_port=6080,
                    tunnel_checksum="csum",
                ),
                Destination("192.0.2.21", 80, weight=2),
            ],
        ),
        Service(family=10, fwmark=7, scheduler="mh", flags=0x1 | 0x10, timeout=300, netmask=64),
    ]
    assert render(services, thresholds=False) == (
        "-A -t 192.0.2.10:80 -s wrr\n"
        "-a -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 2\n"
        "-a -t 192.0.2.10:80 -r 192.0.2.22:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum\n"
        "-a -t 192.0.2.10:80 -r 198.51.100.21:8080 -m -w 0\n"
        "-A -u 192.0.2.10:53 -s sh -p 600 -M 255.255.255.0 -o -b sh-fallback\n"
        "-A -f 7 -6 -s mh -p 300 -M 64 -b mh-port\n"
    )
    assert "-m -w 0 -x 100 -y 10\n" in render(services)


def test_render_follows_ipvsadm_wrapping_order():
    # libipvs compares ntohl(a) - ntohl(b) as an int: 10/8 sorts after 192/8
    services = [
        Service(protocol="tcp", address="10.0.0.1", port=80),
        Service(
            protocol="tcp",
            address="192.0.2.1",
            port=80,
            destinations=[
                Destination("10.0.0.5", 80),
                Destination("192.0.2.5", 80),
                Destination("192.0.2.4", 80),
            ],
        ),
    ]
    assert render(services) == (
        "-A -t 192.0.2.1:80 -s wlc\n"
        "-a -t 192.0.2.1:80 -r 192.0.2.4:80 -g -w 1\n"
        "-a -t 192.0.2.1:80 -r 192.0.2.5:80 -g -w 1\n"
        "-a -t 192.0.2.1:80 -r 10.0.0.5:80 -g -w 1\n"
        "-A -t 10.0.0.1:80 -s wlc\n"
    )
