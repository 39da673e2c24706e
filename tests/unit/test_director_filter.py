"""The director's virtual servers become lvs.cluster.ipvs services."""

from ansible_collections.lvs.cluster.plugins.filter.director import (
    ipvs_service_key,
    ipvs_services,
)


def test_port_service_with_persistence_and_nat_port_mapping():
    vs = {
        "name": "web",
        "address": "192.0.2.100",
        "protocol": "tcp",
        "port": 443,
        "fwmark": None,
        "family": "ipv4",
        "scheduler": "wrr",
        "method": "nat",
        "persistence_timeout": 300,
        "persistence_netmask": "255.255.255.0",
        "real_servers": [{"name": "rs1", "address": "198.51.100.21", "port": 8443, "weight": 3}],
    }
    assert ipvs_services([vs]) == [
        {
            "scheduler": "wrr",
            "family": "ipv4",
            "address": "192.0.2.100",
            "port": 443,
            "protocol": "tcp",
            "persistence_timeout": 300,
            "persistence_netmask": "255.255.255.0",
            "destinations": [
                {"address": "198.51.100.21", "weight": 3, "forwarding": "nat", "port": 8443}
            ],
        }
    ]


def test_fwmark_service_without_persistence_keeps_no_ports():
    vs = {
        "name": "media",
        "address": None,
        "protocol": None,
        "port": None,
        "fwmark": 1,
        "family": "ipv4",
        "scheduler": "rr",
        "method": "dr",
        "persistence_timeout": None,
        "persistence_netmask": None,
        "real_servers": [{"name": "rs1", "address": "192.0.2.21", "port": None, "weight": 1}],
    }
    assert ipvs_services([vs]) == [
        {
            "scheduler": "rr",
            "family": "ipv4",
            "fwmark": 1,
            "destinations": [{"address": "192.0.2.21", "weight": 1, "forwarding": "dr"}],
        }
    ]


def test_no_virtual_servers():
    assert ipvs_services([]) == []


def test_service_keys_as_ipvsadm_save_writes_them():
    assert ipvs_service_key({"address": "192.0.2.100", "port": 80, "protocol": "tcp"}) == (
        "-t 192.0.2.100:80"
    )
    assert ipvs_service_key({"address": "2001:db8::1", "port": 53, "protocol": "udp"}) == (
        "-u [2001:db8::1]:53"
    )
    assert ipvs_service_key({"fwmark": 7, "family": "ipv6"}) == "-f 7 -6"
    assert ipvs_service_key({"fwmark": 1, "address": None}) == "-f 1"
