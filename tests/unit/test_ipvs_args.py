"""Input validation: bad input is refused with a clear message before any kernel call."""

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_args import (
    InvalidInput,
    daemon_matches,
    parse_daemons,
    parse_services,
    with_kernel_defaults,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    AF_INET6,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    SyncDaemon,
)

WEB = {"address": "192.0.2.10", "port": 80}

BAD_SERVICES = [
    ("not an address", [{"address": "192.0.2.300", "port": 80}], "not an IPv4 or IPv6 address"),
    ("hostname", [{"address": "www.example.org", "port": 80}], "not an IPv4 or IPv6"),
    ("scoped address", [{"address": "fe80::1%eth0", "port": 80}], "not an IPv4 or IPv6"),
    ("port too big", [{**WEB, "port": 65536}], "port must be an integer from 0 to 65535"),
    ("negative port", [{**WEB, "port": -1}], "port must be"),
    ("no port", [{"address": "192.0.2.10"}], "needs a port"),
    ("port 0 without persistence", [{**WEB, "port": 0}], "port 0 (all ports) needs"),
    ("neither address nor fwmark", [{"port": 80}], "either address"),
    ("fwmark with address", [{**WEB, "fwmark": 5}], "either address"),
    ("fwmark with port", [{"fwmark": 5, "port": 80}], "fwmark services have no port"),
    ("fwmark with protocol", [{"fwmark": 5, "protocol": "udp"}], "have no protocol"),
    ("fwmark zero", [{"fwmark": 0}], "fwmark must be an integer from 1"),
    ("family disagrees", [{**WEB, "family": "ipv6"}], "is not ipv6"),
    ("unknown scheduler", [{**WEB, "scheduler": "xyz"}], "unknown scheduler 'xyz'"),
    ("unknown protocol", [{**WEB, "protocol": "icmp"}], "protocol must be tcp, udp or sctp"),
    ("bad state", [{**WEB, "state": "gone"}], "state must be present or absent"),
    ("netmask without persistence", [{**WEB, "persistence_netmask": "24"}], "needs persistence"),
    (
        "bad v4 netmask",
        [{**WEB, "persistence_timeout": 60, "persistence_netmask": "255.0.255.0"}],
        "not a contiguous",
    ),
    (
        "bad v6 netmask",
        [
            {
                "address": "2001:db8::1",
                "port": 80,
                "persistence_timeout": 60,
                "persistence_netmask": "255.255.255.0",
            }
        ],
        "prefix length 1..128",
    ),
    ("one packet on tcp", [{**WEB, "one_packet": True}], "for UDP services only"),
    ("hash flags on rr", [{**WEB, "scheduler": "rr", "hash_port": True}], "sh and mh"),
    (
        "duplicate service",
        [WEB, {"address": "192.0.2.10", "port": 80, "scheduler": "rr"}],
        "declared twice (services[0] and [1])",
    ),
    (
        "duplicate v6 service spelled differently",
        [{"address": "2001:db8::1", "port": 80}, {"address": "2001:DB8:0::1", "port": 80}],
        "declared twice",
    ),
    (
        "weight too big",
        [{**WEB, "destinations": [{"address": "192.0.2.21", "weight": 65536}]}],
        "weight must be an integer from 0 to 65535",
    ),
    (
        "negative weight",
        [{**WEB, "destinations": [{"address": "192.0.2.21", "weight": -1}]}],
        "weight must be",
    ),
    (
        "bad destination address",
        [{**WEB, "destinations": [{"address": "192.0.2"}]}],
        "not an IPv4 or IPv6 address",
    ),
    (
        "dr with another port",
        [{**WEB, "destinations": [{"address": "192.0.2.21", "port": 8080}]}],
        "with forwarding dr the destination port must be the service port 80",
    ),
    (
        "tun with another port",
        [{**WEB, "destinations": [{"address": "192.0.2.21", "port": 8080, "forwarding": "tun"}]}],
        "with forwarding tun the destination port",
    ),
    (
        "mixed families with dr",
        [{**WEB, "destinations": [{"address": "2001:db8::21"}]}],
        "an ipv6 destination in an ipv4 service works only with forwarding tun",
    ),
    (
        "mixed families with nat",
        [
            {
                "address": "2001:db8::1",
                "port": 80,
                "destinations": [{"address": "192.0.2.21", "forwarding": "nat"}],
            }
        ],
        "only with forwarding tun",
    ),
    (
        "duplicate destination",
        [
            {
                **WEB,
                "destinations": [{"address": "192.0.2.21"}, {"address": "192.0.2.21", "weight": 3}],
            }
        ],
        "destination 192.0.2.21:80 is listed twice",
    ),
    (
        "thresholds upside down",
        [
            {
                **WEB,
                "destinations": [
                    {"address": "192.0.2.21", "upper_threshold": 5, "lower_threshold": 6}
                ],
            }
        ],
        "lower_threshold 6 is above upper_threshold 5",
    ),
    (
        "tunnel options without tun",
        [{**WEB, "destinations": [{"address": "192.0.2.21", "tunnel_type": "gre"}]}],
        "only apply to forwarding tun",
    ),
    (
        "gue without port",
        [
            {
                **WEB,
                "destinations": [
                    {"address": "192.0.2.21", "forwarding": "tun", "tunnel_type": "gue"}
                ],
            }
        ],
        "needs a tunnel_port",
    ),
    (
        "checksum with ipip",
        [
            {
                **WEB,
                "destinations": [
                    {"address": "192.0.2.21", "forwarding": "tun", "tunnel_checksum": "csum"}
                ],
            }
        ],
        "only applies to tunnel_type gue or gre",
    ),
    ("destination not a dict", [{**WEB, "destinations": ["192.0.2.21"]}], "must be a dict"),
    ("misspelt option", [{**WEB, "sheduler": "rr"}], "unknown option(s) sheduler"),
    ("port not a number", [{**WEB, "port": "http"}], "port must be of type int, got 'http'"),
    ("bool as a port", [{**WEB, "port": True}], "port must be of type int, got True"),
    ("bool not a bool", [{**WEB, "one_packet": "maybe"}], "one_packet must be of type bool"),
    ("destinations not a list", [{**WEB, "destinations": "rs1"}], "must be of type list"),
    ("service not a dict", ["192.0.2.10:80"], "services[0] must be a dict"),
    (
        "weight a fraction",
        [{**WEB, "destinations": [{"address": "192.0.2.21", "weight": 1.5}]}],
        "destinations[0]: weight must be of type int, got 1.5",
    ),
    (
        "misspelt destination option",
        [{**WEB, "destinations": [{"address": "192.0.2.21", "wieght": 3}]}],
        "services[0] (tcp 192.0.2.10:80): destinations[0]: unknown option(s) wieght",
    ),
]


@pytest.mark.parametrize(
    ("services", "message"), [c[1:] for c in BAD_SERVICES], ids=[c[0] for c in BAD_SERVICES]
)
def test_bad_services_are_refused(services, message):
    with pytest.raises(InvalidInput) as info:
        parse_services(services)
    assert message in str(info.value)


def test_messages_name_the_culprit():
    with pytest.raises(InvalidInput) as info:
        parse_services(
            [
                WEB,
                {
                    **WEB,
                    "port": 443,
                    "destinations": [
                        {"address": "192.0.2.21"},
                        {"address": "192.0.2.22", "weight": 70000},
                    ],
                },
            ]
        )
    assert str(info.value).startswith(
        "services[1] (tcp 192.0.2.10:443): destinations[1] (192.0.2.22): weight"
    )


def test_values_are_converted_as_ansibles_argument_spec_does():
    # what a template or an INI inventory hands over as text
    ((svc, _),) = parse_services(
        [
            {
                "address": "192.0.2.10",
                "port": "80",
                "scheduler": "sh",
                "hash_port": "yes",
                "hash_fallback": 1.0,
                "persistence_timeout": 300.0,
                "destinations": [{"address": "192.0.2.21", "weight": "3", "port": None}],
            }
        ]
    )
    assert (svc.port, svc.timeout, svc.destinations[0].weight) == (80, 300, 3)
    assert svc.flags & SVC_F_PERSISTENT
    assert svc.flags & SVC_F_SCHED1 and svc.flags & SVC_F_SCHED2
    assert svc.destinations[0].port == 80


def test_defaults_and_normalisation():
    ((svc, state),) = parse_services(
        [{"address": "2001:DB8::0:10", "port": 443, "destinations": [{"address": "2001:db8::21"}]}]
    )
    assert state == "present"
    assert (svc.family, svc.address, svc.protocol, svc.scheduler) == (
        AF_INET6,
        "2001:db8::10",
        "tcp",
        "wlc",
    )
    assert svc.netmask == 128
    (dest,) = svc.destinations
    assert (dest.port, dest.weight, dest.forwarding) == (443, 1, "dr")


def test_fwmark_service_destinations_default_to_port_zero():
    ((svc, _),) = parse_services(
        [
            {
                "fwmark": 4,
                "destinations": [
                    {"address": "192.0.2.21"},
                    {"address": "198.51.100.21", "port": 8080, "forwarding": "nat"},
                ],
            }
        ]
    )
    assert [d.port for d in svc.destinations] == [0, 8080]


def test_persistence_and_flags():
    ((svc, _),) = parse_services(
        [
            {
                "address": "192.0.2.10",
                "port": 0,
                "protocol": "udp",
                "persistence_timeout": 60,
                "persistence_netmask": "24",
                "one_packet": True,
            }
        ]
    )
    assert svc.flags == SVC_F_PERSISTENT | SVC_F_ONEPACKET
    assert (svc.timeout, svc.netmask) == (60, 0xFFFFFF00)


def test_tunnel_across_families_is_allowed():
    ((svc, _),) = parse_services(
        [
            {
                **WEB,
                "destinations": [
                    {
                        "address": "2001:db8::21",
                        "forwarding": "tun",
                        "tunnel_type": "gue",
                        "tunnel_port": 6080,
                        "tunnel_checksum": "remcsum",
                    }
                ],
            }
        ]
    )
    assert svc.destinations[0].tunnel_port == 6080


def test_absent_service_needs_identity_only():
    ((svc, state),) = parse_services([{**WEB, "state": "absent", "scheduler": None}])
    assert state == "absent" and svc.port == 80


BAD_DAEMONS = [
    ("no role", [{"interface": "eth1"}], "role must be master or backup"),
    ("no interface", [{"role": "master"}], "needs an interface"),
    ("bad interface", [{"role": "master", "interface": "a" * 16}], "not a valid interface"),
    ("syncid too big", [{"role": "master", "interface": "eth1", "syncid": 256}], "syncid"),
    (
        "unicast group",
        [{"role": "backup", "interface": "eth1", "mcast_group": "192.0.2.1"}],
        "not a multicast address",
    ),
    ("ttl zero", [{"role": "backup", "interface": "eth1", "mcast_ttl": 0}], "mcast_ttl"),
    (
        "twice",
        [{"role": "master", "interface": "eth1"}, {"role": "master", "interface": "eth0"}],
        "declared twice",
    ),
]


@pytest.mark.parametrize(
    ("daemons", "message"), [c[1:] for c in BAD_DAEMONS], ids=[c[0] for c in BAD_DAEMONS]
)
def test_bad_daemons_are_refused(daemons, message):
    with pytest.raises(InvalidInput) as info:
        parse_daemons(daemons)
    assert message in str(info.value)


def test_daemon_match_ignores_undeclared_kernel_defaults():
    ((want, _), (gone, state)) = parse_daemons(
        [
            {"role": "master", "interface": "eth1", "syncid": 3},
            {"role": "backup", "state": "absent"},
        ]
    )
    running = SyncDaemon("master", "eth1", 3, 1472, "224.0.0.81", 8848, 1)
    assert daemon_matches(running, want)
    assert not daemon_matches(SyncDaemon("master", "eth1", 4), want)
    want.mcast_ttl = 2
    assert not daemon_matches(running, want)
    assert (gone.role, state) == ("backup", "absent")


@pytest.mark.parametrize(
    ("item", "mtu", "expected"),
    [
        ({"role": "master", "interface": "eth1"}, 9000, (1472, "224.0.0.81", 8848, 1)),
        ({"role": "backup", "interface": "eth1"}, 9000, (8972, "224.0.0.81", 8848, 1)),
        ({"role": "backup", "interface": "eth1"}, 1400, (1472, "224.0.0.81", 8848, 1)),
        (
            {"role": "backup", "interface": "eth1", "mcast_group": "ff02::81"},
            1500,
            (1452, "ff02::81", 8848, 1),
        ),
        (
            {"role": "backup", "interface": "eth1", "sync_maxlen": 500},
            1500,
            (1024, "224.0.0.81", 8848, 1),
        ),
        (
            {
                "role": "master",
                "interface": "eth1",
                "sync_maxlen": 500,
                "mcast_port": 9000,
                "mcast_ttl": 3,
            },
            None,
            (500, "224.0.0.81", 9000, 3),
        ),
        ({"role": "backup", "interface": "eth1"}, None, (None, "224.0.0.81", 8848, 1)),
    ],
)
def test_daemon_kernel_defaults(item, mtu, expected):
    ((daemon, _),) = parse_daemons([item])
    filled = with_kernel_defaults(daemon, mtu)
    assert (filled.sync_maxlen, filled.mcast_group, filled.mcast_port, filled.mcast_ttl) == expected


def _examples(module: str) -> list[dict]:
    import importlib

    import yaml

    mod = importlib.import_module(f"ansible_collections.lvs.cluster.plugins.modules.{module}")
    return [task[f"lvs.cluster.{module}"] for task in yaml.safe_load(mod.EXAMPLES)]


def test_module_examples_pass_the_checks():
    for args in _examples("ipvs"):
        if isinstance(args["services"], list):  # not a template
            assert parse_services(args["services"])
    for args in _examples("ipvs_sync_daemon"):
        assert parse_daemons(args["daemons"])
