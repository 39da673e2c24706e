"""Model -> plain per-role variables: facts in, role variables out."""

import model_api as topo
import pytest
from topology_cases import groups, hosts, model


def _director(host="dir1", m=None):
    return topo.director_vars(m or model(), hosts(), groups(), host)


def _vs(out, name):
    return next(v for v in out["lvs_director_virtual_servers"] if v["name"] == name)


def test_invalid_model_raises_with_every_message():
    m = model()
    m["services"][0]["scheduler"] = "random"
    m["vrrp"]["advert_int"] = 0
    with pytest.raises(topo.ModelError, match=r"advert_int 0.*unknown scheduler 'random'"):
        topo.director_vars(m, hosts(), groups(), "dir1")


def test_not_a_director():
    with pytest.raises(topo.ModelError, match="rs1 is not a director"):
        _director("rs1")


def test_vrrp_master_and_backup():
    one, two = _director("dir1"), _director("dir2")
    front1, back1 = one["lvs_director_vrrp_instances"]
    front2 = two["lvs_director_vrrp_instances"][0]
    # keepalived honours preempt_delay only from an initial BACKUP state: the
    # priority alone makes dir1 the master
    assert (front1["state"], front2["state"]) == ("BACKUP", "BACKUP")
    assert front1["priority"] > front2["priority"]
    assert front1 | {"state": None, "priority": None} == front2 | {"state": None, "priority": None}
    assert front1["interface"] == "eth0" and back1["interface"] == "eth1"
    assert front1["virtual_router_id"] == 51 and front1["version"] == 3
    assert front1["advert_int"] == 0.1 and front1["preempt_delay"] == 15
    assert back1["virtual_ipaddresses"] == [{"address": "198.51.100.1/24", "interface": "eth1"}]
    assert [v["address"] for v in front1["virtual_ipaddresses"]] == [
        "192.0.2.100/24",
        "192.0.2.101/24",
        "192.0.2.102/24",
        "192.0.2.110/24",
    ]
    assert front1["unicast_peers"] == [] and front1["unicast_src_ip"] is None
    assert front1["auth"] is None


def test_master_state_without_preempt_delay():
    m = model()
    m["vrrp"]["preempt_delay"] = 0
    assert _director("dir1", m)["lvs_director_vrrp_instances"][0]["state"] == "MASTER"
    assert _director("dir2", m)["lvs_director_vrrp_instances"][0]["state"] == "BACKUP"
    m["vrrp"]["preempt"] = False
    assert _director("dir1", m)["lvs_director_vrrp_instances"][0]["state"] == "BACKUP"


def test_digest_check_has_no_default_status_code():
    m = model()
    m["services"][0]["check"] = {"type": "HTTP_GET", "digest": "0" * 32}
    check = _vs(_director(m=m), "web-http-dr")["check"]
    assert check["digest"] == "0" * 32 and check["status_code"] is None and check["path"] == "/"
    m["services"][0]["check"]["status_code"] = 201
    assert _vs(_director(m=m), "web-http-dr")["check"]["status_code"] == 201


def test_service_without_check_has_none():
    m = model()
    del m["services"][0]["check"]
    assert _vs(_director(m=m), "web-http-dr")["check"] is None


def test_explicit_priorities_choose_master():
    m = model()
    del m["vrrp"]["master"]
    m["vrrp"]["priorities"] = {"dir1": 90, "dir2": 120}
    m["vrrp"]["preempt_delay"] = 0
    assert _director("dir2", m)["lvs_director_vrrp_instances"][0]["state"] == "MASTER"
    assert _director("dir1", m)["lvs_director_vrrp_instances"][0]["priority"] == 90


def test_unicast_peers_are_the_other_directors_addresses():
    m = model()
    m["vrrp"]["unicast"] = True
    front, back = _director("dir2", m)["lvs_director_vrrp_instances"]
    assert front["unicast_src_ip"] == "192.0.2.12" and front["unicast_peers"] == ["192.0.2.11"]
    assert back["unicast_src_ip"] == "198.51.100.12" and back["unicast_peers"] == ["198.51.100.11"]


def test_v2_auth_is_passed_on():
    m = model()
    m["vrrp"].update(version=2, advert_int=1, auth={"type": "PASS", "pass": "s3cret"})
    inst = _director("dir1", m)["lvs_director_vrrp_instances"][0]
    assert inst["auth"] == {"type": "PASS", "pass": "s3cret"} and inst["version"] == 2


def test_dr_virtual_server():
    vs = _vs(_director(), "web-http-dr")
    assert vs == {
        "name": "web-http-dr",
        "address": "192.0.2.100",
        "vip": "web-dr",
        "protocol": "tcp",
        "port": 80,
        "fwmark": None,
        "family": "ipv4",
        "scheduler": "rr",
        "method": "dr",
        "persistence_timeout": None,
        "persistence_netmask": None,
        "quorum": 1,
        "sorry_server": None,
        "inhibit_on_failure": True,
        "check": {
            "type": "HTTP_GET",
            "port": None,
            "path": "/",
            "status_code": 200,
            "digest": None,
            "virtualhost": None,
            "connect_timeout": 3,
            "delay_loop": 6,
            "retry": 1,
            "delay_before_retry": 1,
            "misc_path": None,
            "misc_timeout": None,
            "misc_dynamic": False,
        },
        "real_servers": [
            {"name": "rs1", "address": "192.0.2.21", "port": 80, "weight": 1},
            {"name": "rs2", "address": "192.0.2.22", "port": 80, "weight": 1},
            {"name": "rs3", "address": "192.0.2.23", "port": 80, "weight": 1},
        ],
    }


def test_https_persistence_and_sorry_server():
    vs = _vs(_director(), "web-https")
    assert vs["persistence_timeout"] == 300 and vs["persistence_netmask"] == "255.255.255.0"
    assert vs["sorry_server"] == {"address": "192.0.2.30", "port": 443}
    assert vs["check"]["type"] == "SSL_GET" and vs["check"]["connect_timeout"] == 1


def test_persistence_prefix_becomes_netmask():
    m = model()
    m["services"][1]["persistence"]["netmask"] = 16
    assert _vs(_director(m=m), "web-https")["persistence_netmask"] == "255.255.0.0"


def test_nat_real_servers_use_their_back_addresses_and_translate_ports():
    vs = _vs(_director(), "web-http-nat")
    assert vs["address"] == "192.0.2.102" and vs["method"] == "nat"
    assert [(r["address"], r["port"]) for r in vs["real_servers"]] == [
        ("198.51.100.21", 8080),
        ("198.51.100.22", 8080),
        ("198.51.100.23", 8080),
    ]
    assert vs["check"]["misc_path"] == "/usr/bin/true"


def test_tun_weights():
    vs = _vs(_director(), "web-http-tun")
    assert [r["weight"] for r in vs["real_servers"]] == [3, 2, 1]
    assert vs["protocol"] == "tcp"  # the default


def test_fwmark_service_and_rules():
    out = _director()
    vs = _vs(out, "media-rtsp")
    assert (vs["fwmark"], vs["address"], vs["port"], vs["protocol"]) == (1, None, None, None)
    assert vs["persistence_timeout"] == 600 and vs["scheduler"] == "lc"
    assert [(r["name"], r["port"], r["weight"]) for r in vs["real_servers"]] == [
        ("rs1", None, 1),
        ("rs2", None, 2),
    ]
    assert out["lvs_director_fwmark_rules"] == [
        {"fwmark": 1, "address": "192.0.2.110", "protocol": "tcp", "port": "554"},
        {"fwmark": 1, "address": "192.0.2.110", "protocol": "udp", "port": "6970:6999"},
    ]


def test_transparent_service_marks_its_networks_from_the_vip_segment_and_delivers_locally():
    m = model()
    svc = next(s for s in m["services"] if s["name"] == "media-rtsp")
    svc["fwmark_match"] = [{"protocol": "tcp", "port": 80, "destinations": ["198.18.0.0/15"]}]
    svc["method"] = "tun"
    out = _director("dir2", m)
    # the media VIP is on the front segment: dir2's eth0
    assert out["lvs_director_fwmark_rules"] == [
        {
            "fwmark": 1,
            "protocol": "tcp",
            "port": "80",
            "address": "198.18.0.0/15",
            "interface": "eth0",
        }
    ]
    assert out["lvs_director_fwmark_local"] == [1]
    assert _director()["lvs_director_fwmark_local"] == []  # VIP marks: no local delivery


def test_sync_timeouts_and_sysctls():
    out = _director("dir2")
    assert out["lvs_director_sync_daemon"] == {"interface": "eth1", "syncid": 51}
    assert out["lvs_director_timeouts"] == {"tcp": 900, "tcp_fin": 120, "udp": 300}
    assert out["lvs_director_sysctls"] == {
        "net.ipv4.vs.drop_entry": 1,
        "net.ipv4.vs.drop_packet": 1,
        "net.ipv4.vs.secure_tcp": 1,
        "net.ipv4.vs.amemthresh": 1024,
        "net.ipv4.vs.sync_threshold": "3 50",
        "net.ipv4.ip_forward": 1,  # a NAT service routes the replies
    }


def test_no_nat_no_forwarding_no_sync():
    m = model()
    m["services"] = [s for s in m["services"] if s["method"] != "nat"]
    m["sync"]["enabled"] = False
    out = _director(m=m)
    assert "net.ipv4.ip_forward" not in out["lvs_director_sysctls"]
    assert out["lvs_director_sync_daemon"] is None


def test_director_vips():
    assert _director("dir1")["lvs_director_vips"][-2:] == [
        {"name": "inside", "address": "198.51.100.1/24", "interface": "eth1"},
        {"name": "media", "address": "192.0.2.110/24", "interface": "eth0"},
    ]


def test_static_single_director_has_no_vrrp():
    m = model()
    m["mode"] = "static"
    del m["vrrp"]
    g = groups()
    g["directors"].remove("dir2")
    out = topo.director_vars(m, hosts(), g, "dir1")
    assert out["lvs_director_mode"] == "static"
    assert out["lvs_director_vrrp_instances"] == []
    assert len(out["lvs_director_virtual_servers"]) == 5


def test_realserver_vips_by_method():
    out = topo.realserver_vars(model(), hosts(), groups(), "rs1")
    assert out["lvs_realserver_vips"] == [
        {"address": "192.0.2.100", "method": "dr", "services": ["web-http-dr", "web-https"]},
        {"address": "192.0.2.101", "method": "tun", "services": ["web-http-tun"]},
        {"address": "192.0.2.110", "method": "dr", "services": ["media-rtsp"]},
    ]
    assert out["lvs_realserver_nat"] == {
        "gateway": "198.51.100.1",
        "interface": "eth1",
        "source": "198.51.100.21",
        "network": "198.51.100.0/24",
    }


def test_realserver_outside_nat_and_fwmark():
    out = topo.realserver_vars(model(), hosts(), groups(), "rs3")
    assert [v["address"] for v in out["lvs_realserver_vips"]] == ["192.0.2.100", "192.0.2.101"]
    m = model()
    m["services"] = [s for s in m["services"] if s["method"] != "nat"]
    assert topo.realserver_vars(m, hosts(), groups(), "rs3")["lvs_realserver_nat"] is None


def test_realserver_in_no_service():
    m = model()
    m["services"] = []
    m["vips"] = []
    assert topo.realserver_vars(m, hosts(), groups(), "rs2") == {
        "lvs_realserver_vips": [],
        "lvs_realserver_nat": None,
    }


def test_plan_covers_every_host():
    out = topo.plan(model(), hosts(), groups())
    assert sorted(out) == ["dir1", "dir2", "rs1", "rs2", "rs3"]
    assert "lvs_director_virtual_servers" in out["dir2"]
    assert "lvs_realserver_vips" in out["rs2"]
