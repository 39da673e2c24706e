"""IPVS message encoding against exact bytes; decoding of hand-built and captured replies."""

import errno
import json
from pathlib import Path

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs
from ansible_collections.lvs.cluster.plugins.module_utils import netlink as nl
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    AF_INET,
    AF_INET6,
    SVC_F_PERSISTENT,
    Destination,
    Service,
    SyncDaemon,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_plan import Op

FIXTURES = Path(__file__).parent / "fixtures"


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


V4_TCP_ID = (
    "06000100 02000000"  # AF_INET
    "06000200 06000000"  # IPPROTO_TCP
    "14000300 c000020a 00000000 00000000 00000000"  # 192.0.2.10 in a 16-byte union
    "06000400 00500000"  # port 80, network order
)


def test_service_identity_only():
    svc = Service(protocol="tcp", address="192.0.2.10", port=80)
    assert ipvs.encode_service(svc, full=False) == h("30000180" + V4_TCP_ID)


def test_service_full_ipv4():
    svc = Service(protocol="tcp", address="192.0.2.10", port=80, scheduler="rr")
    assert (
        ipvs.encode_service(svc)
        == h(
            "54000180" + V4_TCP_ID + "07000600 72720000"  # sched "rr\0"
            "0c000700 00000000 ffffffff"  # flags 0, mask all
            "08000800 00000000"  # timeout 0
            "08000900 ffffffff"  # netmask 255.255.255.255, network order
        )
    )


def test_service_persistent_ipv4_mask_is_network_order():
    svc = Service(
        protocol="udp",
        address="192.0.2.10",
        port=53,
        scheduler="sh",
        flags=SVC_F_PERSISTENT | 0x8,
        timeout=600,
        netmask=0xFFFFFF00,
    )
    attrs = nl.parse_attrs(ipvs.encode_service(svc)[4:])
    assert attrs[ipvs.SVC_ATTR_NETMASK] == h("ffffff00")
    assert attrs[ipvs.SVC_ATTR_FLAGS] == h("09000000 ffffffff")
    assert attrs[ipvs.SVC_ATTR_TIMEOUT] == h("58020000")
    assert attrs[ipvs.SVC_ATTR_PROTOCOL] == h("1100")


def test_service_fwmark_ipv6_netmask_is_prefix_length():
    svc = Service(
        family=AF_INET6, fwmark=7, scheduler="mh", flags=SVC_F_PERSISTENT, timeout=300, netmask=64
    )
    assert ipvs.encode_service(svc) == h(
        "38000180"
        "06000100 0a000000"  # AF_INET6
        "08000500 07000000"  # fwmark 7
        "07000600 6d680000"  # "mh"
        "0c000700 01000000 ffffffff"
        "08000800 2c010000"  # 300 s
        "08000900 40000000"  # prefix length 64, host order
    )


def test_destination_full_dr():
    dest = Destination(
        "192.0.2.21", 80, weight=3, forwarding="dr", upper_threshold=100, lower_threshold=10
    )
    assert ipvs.encode_dest(dest) == h(
        "48000280"
        "06000b00 02000000"  # address family
        "14000100 c0000215 00000000 00000000 00000000"
        "06000200 00500000"
        "08000300 03000000"  # IP_VS_CONN_F_DROUTE
        "08000400 03000000"  # weight
        "08000500 64000000"  # upper threshold
        "08000600 0a000000"  # lower threshold
    )


def test_destination_gue_tunnel_attrs():
    dest = Destination(
        "2001:db8::21",
        80,
        forwarding="tun",
        tunnel_type="gue",
        tunnel_port=6080,
        tunnel_checksum="remcsum",
    )
    attrs = nl.parse_attrs(ipvs.encode_dest(dest)[4:])
    assert attrs[ipvs.DEST_ATTR_ADDR] == h("20010db8 00000000 00000000 00000021")
    assert attrs[ipvs.DEST_ATTR_FWD_METHOD] == h("02000000")
    assert attrs[ipvs.DEST_ATTR_TUN_TYPE] == h("01")
    assert attrs[ipvs.DEST_ATTR_TUN_PORT] == h("17c0")  # 6080, network order
    assert attrs[ipvs.DEST_ATTR_TUN_FLAGS] == h("0200")


def test_destination_identity_for_delete():
    dest = Destination("192.0.2.21", 8080, forwarding="nat")
    assert ipvs.encode_dest(dest, full=False) == h(
        "28000280 06000b00 0200000014000100 c0000215 00000000 00000000 0000000006000200 1f900000"
    )


def test_op_encoding_uses_set_commands_for_edits():
    svc = Service(protocol="tcp", address="192.0.2.10", port=80)
    dest = Destination("192.0.2.21", 80)
    assert ipvs.encode_op(Op("set_service", svc))[0] == ipvs.CMD_SET_SERVICE
    cmd, attrs = ipvs.encode_op(Op("set_dest", svc, dest))
    assert cmd == ipvs.CMD_SET_DEST
    parsed = nl.parse_attrs(attrs)
    # the service is named by identity only, the destination in full
    assert ipvs.SVC_ATTR_SCHED_NAME not in nl.parse_attrs(parsed[ipvs.CMD_ATTR_SERVICE])
    assert ipvs.DEST_ATTR_WEIGHT in nl.parse_attrs(parsed[ipvs.CMD_ATTR_DEST])
    assert ipvs.encode_op(Op("del_dest", svc, dest))[0] == ipvs.CMD_DEL_DEST
    assert ipvs.encode_op(Op("del_service", svc)) == (
        ipvs.CMD_DEL_SERVICE,
        ipvs.encode_service(svc, full=False),
    )


def test_daemon_encoding():
    daemon = SyncDaemon(
        "backup",
        "eth1",
        syncid=5,
        sync_maxlen=1400,
        mcast_group="239.1.2.3",
        mcast_port=8850,
        mcast_ttl=2,
    )
    assert ipvs.encode_daemon(daemon) == h(
        "40000380"
        "08000100 02000000"  # IP_VS_STATE_BACKUP
        "09000200 65746831 00000000"  # "eth1\0"
        "08000300 05000000"
        "06000400 78050000"  # maxlen 1400
        "08000500 ef010203"  # group, network order
        "06000700 92220000"  # port 8850 (host order, as the kernel reads it)
        "05000800 02000000"  # ttl
    )
    assert ipvs.encode_daemon(daemon, full=False) == h(
        "20000380 08000100 02000000 09000200 65746831 00000000 08000300 05000000"
    )


def test_timeouts_only_given_values():
    assert ipvs.encode_timeouts(3600, None, 60) == h("08000400 100e0000 08000600 3c000000")


def test_service_round_trip_through_decoder():
    svc = Service(
        protocol="sctp",
        address="2001:db8::10",
        port=9,
        scheduler="wrr",
        flags=SVC_F_PERSISTENT,
        timeout=30,
        netmask=96,
    )
    attrs = nl.parse_attrs(ipvs.encode_service(svc))
    back = ipvs.decode_service(nl.parse_attrs(attrs[ipvs.CMD_ATTR_SERVICE]))
    assert back == svc


def test_decoder_strips_hashed_flag_and_reads_stats64():
    stats = nl.attr_nested(
        ipvs.SVC_ATTR_STATS64, [nl.attr(n, (n * 1000).to_bytes(8, "little")) for n in range(1, 11)]
    )
    payload = ipvs.encode_service(Service(protocol="tcp", address="192.0.2.10", port=80))[4:]
    attrs = nl.parse_attrs(payload)
    attrs[ipvs.SVC_ATTR_FLAGS] = h("02000000 ffffffff")  # IP_VS_SVC_F_HASHED as dumped
    attrs[ipvs.SVC_ATTR_STATS64] = nl.parse_attrs(stats)[ipvs.SVC_ATTR_STATS64]
    svc = ipvs.decode_service(attrs)
    assert svc.flags == 0
    assert svc.stats.conns == 1000 and svc.stats.outbps == 10000


def test_explain_messages():
    svc = Service(protocol="tcp", address="192.0.2.10", port=80, scheduler="xyz")
    dest = Destination("192.0.2.21", 80)
    assert (
        ipvs.explain("add_service", errno.ENOENT, svc)
        == "scheduler 'xyz' is not available (module ip_vs_xyz missing?)"
    )
    assert ipvs.explain("set_service", errno.ESRCH, svc) == "tcp 192.0.2.10:80 does not exist"
    assert (
        ipvs.explain("del_dest", errno.ENOENT, svc, dest)
        == "destination 192.0.2.21:80 of tcp 192.0.2.10:80 does not exist"
    )
    assert "already exists" in ipvs.explain("add_dest", errno.EEXIST, svc, dest)
    assert "CAP_NET_ADMIN" in ipvs.explain("add_service", errno.EPERM, svc)
    assert (
        ipvs.explain("start_daemon", errno.ENODEV, daemon=SyncDaemon("master", "eth9"))
        == "interface 'eth9' does not exist"
    )
    assert (
        ipvs.explain("add_dest", errno.EINVAL, svc, dest, kernel_text="bad")
        == "the kernel rejected destination 192.0.2.21:80 of tcp 192.0.2.10:80 as invalid "
        "(kernel: bad)"
    )


# Replies captured from a Linux 6.1 guest (tests/unit/fixtures/*.json, hex of what recv()
# returned), decoded here without a kernel.


def captured(name):
    path = FIXTURES / f"{name}.json"
    if not path.exists():
        pytest.skip(f"no captured fixture {path.name}")
    return json.loads(path.read_text())


def messages(capture):
    out = []
    for chunk in capture["recv"]:
        out += list(nl.parse_messages(bytes.fromhex(chunk)))
    return out


def test_decode_captured_service_dump():
    cap = captured("service_dump")
    msgs = messages(cap)
    assert msgs[-1].type == nl.NLMSG_DONE
    services = ipvs.services_from(msgs)
    assert [s.to_dict(with_state=False) for s in services] == cap["expect"]


def test_decode_captured_dest_dump():
    cap = captured("dest_dump")
    dests = ipvs.dests_from(messages(cap), AF_INET)
    assert [d.to_dict(with_state=False) for d in dests] == cap["expect"]


def test_decode_captured_daemons_and_config():
    cap = captured("daemon_dump")
    daemons = [
        ipvs.decode_daemon(nl.parse_attrs(m.attrs[ipvs.CMD_ATTR_DAEMON]))
        for m in messages(cap)
        if ipvs.CMD_ATTR_DAEMON in m.attrs
    ]
    assert [d.to_dict() for d in daemons] == cap["expect"]
    cap = captured("config")
    (reply,) = [m for m in messages(cap) if m.type != nl.NLMSG_ERROR]
    assert ipvs.decode_timeouts(reply.attrs).to_dict() == cap["expect"]


def test_decode_captured_errors():
    cap = captured("errors")
    errs = [m for m in messages(cap) if m.type == nl.NLMSG_ERROR]
    assert [m.error for m in errs] == cap["expect"]
