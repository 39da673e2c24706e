"""The director's virtual servers become lvs.cluster.ipvs services."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.filter.director import (
    ipvs_service_key,
    ipvs_services,
    ipvsadm_save,
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


def test_ipvsadm_save_is_the_collection_renderer_on_the_role_services():
    # /etc/lvs/ipvs.rules (static mode): ipvsadm's order, -6 on every line of an IPv6
    # fwmark service, the default netmask left out, as `ipvsadm-save -n` writes them
    vs = [
        {
            "name": "web",
            "address": "192.0.2.100",
            "protocol": "tcp",
            "port": 80,
            "fwmark": None,
            "family": "ipv4",
            "scheduler": "wrr",
            "method": "dr",
            "persistence_timeout": 300,
            "persistence_netmask": "255.255.255.255",
            "real_servers": [
                {"name": "rs2", "address": "192.0.2.22", "port": 80, "weight": 1},
                {"name": "rs1", "address": "192.0.2.21", "port": 80, "weight": 2},
            ],
        },
        {
            "name": "media6",
            "address": None,
            "protocol": None,
            "port": None,
            "fwmark": 7,
            "family": "ipv6",
            "scheduler": "sh",
            "method": "tun",
            "persistence_timeout": None,
            "persistence_netmask": None,
            "real_servers": [{"name": "rs1", "address": "2001:db8::21", "port": None, "weight": 1}],
        },
        {
            "name": "dns",
            "address": "10.0.0.53",
            "protocol": "udp",
            "port": 53,
            "fwmark": None,
            "family": "ipv4",
            "scheduler": "rr",
            "method": "nat",
            "persistence_timeout": None,
            "persistence_netmask": None,
            "real_servers": [
                {"name": "rs1", "address": "198.51.100.21", "port": 5353, "weight": 1}
            ],
        },
    ]
    assert ipvsadm_save(ipvs_services(vs)) == (
        "-A -t 192.0.2.100:80 -s wrr -p 300\n"
        "-a -t 192.0.2.100:80 -r 192.0.2.21:80 -g -w 2\n"
        "-a -t 192.0.2.100:80 -r 192.0.2.22:80 -g -w 1\n"
        # ipvsadm compares addresses in a wrapping int: 10.0.0.53 after 192.0.2.100
        "-A -u 10.0.0.53:53 -s rr\n"
        "-a -u 10.0.0.53:53 -r 198.51.100.21:5353 -m -w 1\n"
        "-A -f 7 -6 -s sh\n"
        "-a -f 7 -6 -r [2001:db8::21]:0 -i -w 1 --tun-type ipip\n"
    )
    assert ipvsadm_save([]) == ""
    assert ipvsadm_save([{"address": "192.0.2.1", "port": 80, "state": "absent"}]) == ""


def test_ipvsadm_save_refuses_what_the_module_would():
    with pytest.raises(AnsibleFilterError, match="declared twice"):
        ipvsadm_save([{"address": "192.0.2.1", "port": 80}, {"address": "192.0.2.1", "port": 80}])


def test_service_keys_of_what_ipvs_info_reports():
    # ipvs_info's services carry state and stats; the address is the kernel's spelling
    reported = {"family": "ipv6", "protocol": "tcp", "address": "2001:db8::1", "port": 443}
    reported |= {"scheduler": "wlc", "destinations": [], "stats": {"conns": 3}}
    assert ipvs_service_key(reported) == "-t [2001:db8::1]:443"
    assert ipvs_service_key({"address": "2001:db8:0:0::1", "port": 443, "protocol": "tcp"}) == (
        "-t [2001:db8::1]:443"
    )
