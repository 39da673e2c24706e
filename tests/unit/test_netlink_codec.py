"""Netlink codec against exact bytes, and the socket against the host's own genl controller."""

import errno
import struct

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils import netlink as nl


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", "").replace("\n", ""))


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (nl.attr_u8(8, 1), h("05000800 01000000")),
        (nl.attr_u16(1, 2), h("06000100 02000000")),
        (nl.attr_be16(4, 80), h("06000400 00500000")),
        (nl.attr_u32(9, 0x11223344), h("08000900 44332211")),
        (nl.attr_be32(9, 0xFFFFFF00), h("08000900 ffffff00")),
        (nl.attr_str(2, "IPVS"), h("09000200 49505653 00000000")),
        (nl.attr_str(6, "rr"), h("07000600 72720000")),
        (nl.attr(3, b""), h("04000300")),
        (
            nl.attr_nested(1, [nl.attr_u16(1, 2), nl.attr_u32(5, 7)]),
            h("14000180 06000100 02000000 08000500 07000000"),
        ),
    ],
)
def test_attribute_encoding(encoded, expected):
    assert encoded == expected


def test_genl_message_header():
    msg = nl.genl_message(
        0x10, 3, nl.attr_str(2, "IPVS"), flags=nl.NLM_F_REQUEST | nl.NLM_F_ACK, seq=1, version=1
    )
    assert msg == h(
        "20000000 1000 0500 01000000 00000000"  # nlmsghdr: len 32, type, flags, seq, pid
        "03 01 0000"  # genlmsghdr: cmd, version, reserved
        "09000200 49505653 00000000"
    )


def test_parse_attrs_round_trip_and_flags_masked():
    data = nl.attr_u16(1, 10) + nl.attr_nested(2, [nl.attr_str(1, "x")]) + nl.attr_u32(3, 5)
    attrs = nl.parse_attrs(data)
    assert sorted(attrs) == [1, 2, 3]  # NLA_F_NESTED stripped from the type
    assert nl.get_u16(attrs[1]) == 10
    assert nl.get_str(nl.parse_attrs(attrs[2])[1]) == "x"
    assert nl.get_u32(attrs[3]) == 5


def test_parse_attrs_rejects_truncation():
    with pytest.raises(ValueError, match="malformed attribute"):
        nl.parse_attrs(h("0c000100 0000"))


def test_parse_error_with_extended_ack():
    # NLMSG_ERROR, capped, with an NLMSGERR_ATTR_MSG: what a kernel sends for a bad request
    echoed = struct.pack("=IHHII", 44, 0x1A, 5, 7, 0)
    tlv = nl.attr_str(1, "bad attr")
    body = struct.pack("=i", -errno.EINVAL) + echoed + tlv
    hdr = struct.pack(
        "=IHHII", 16 + len(body), nl.NLMSG_ERROR, nl.NLM_F_CAPPED | nl.NLM_F_ACK_TLVS, 7, 1234
    )
    (msg,) = nl.parse_messages(hdr + body)
    assert (msg.type, msg.seq, msg.error, msg.ext_msg) == (
        nl.NLMSG_ERROR,
        7,
        errno.EINVAL,
        "bad attr",
    )


def test_parse_plain_ack_and_done():
    ack = (
        struct.pack("=IHHII", 36, nl.NLMSG_ERROR, 0x100, 3, 0)
        + struct.pack("=i", 0)
        + struct.pack("=IHHII", 20, 0x1A, 5, 3, 0)
    )
    done = struct.pack("=IHHII", 20, nl.NLMSG_DONE, nl.NLM_F_MULTI, 4, 0) + struct.pack("=i", 0)
    msgs = list(nl.parse_messages(ack + done))
    assert [(m.type, m.seq, m.error) for m in msgs] == [
        (nl.NLMSG_ERROR, 3, 0),
        (nl.NLMSG_DONE, 4, 0),
    ]


def test_parse_genl_reply_attrs():
    payload = nl.attr_u16(1, 0x1A) + nl.attr_str(2, "IPVS")
    raw = nl.genl_message(0x10, 1, payload, flags=0, seq=9)
    (msg,) = nl.parse_messages(raw)
    assert msg.cmd == 1
    assert nl.get_u16(msg.attrs[1]) == 0x1A
    assert nl.get_str(msg.attrs[2]) == "IPVS"


# The host kernel has no IPVS, but its generic netlink controller answers anyone:
# enough to exercise lookups, errors, dumps and batches against a real kernel.


def test_resolve_controller_family():
    with nl.GenlSocket("nlctrl") as sock:
        assert sock.family_id == nl.GENL_ID_CTRL


def test_missing_family_is_enoent():
    with pytest.raises(nl.NetlinkError) as info:
        nl.GenlSocket("NO-SUCH-FAMILY")
    assert info.value.errno == errno.ENOENT


def test_dump_collects_multipart_reply():
    with nl.GenlSocket("nlctrl") as sock:
        msgs = sock.dump(nl.CTRL_CMD_GETFAMILY)
    names = {nl.get_str(m.attrs[nl.CTRL_ATTR_FAMILY_NAME]) for m in msgs}
    assert "nlctrl" in names
    assert len(names) > 1


def test_batch_reports_each_outcome_in_order():
    with nl.GenlSocket("nlctrl") as sock:
        req = [
            (nl.CTRL_CMD_GETFAMILY, nl.attr_str(nl.CTRL_ATTR_FAMILY_NAME, name))
            for name in ("nlctrl", "NO-SUCH-FAMILY", "nlctrl")
        ]
        results = sock.batch(req, stop_on_error=False)
        assert [err for err, _ in results] == [0, errno.ENOENT, 0]
        assert nl.get_u16(results[0][1][0].attrs[nl.CTRL_ATTR_FAMILY_ID]) == nl.GENL_ID_CTRL
        # a long batch spans several writes; after a failing write nothing more is sent
        sock.CHUNK_BYTES = 100  # about three requests a write
        many = req * 40
        results = sock.batch(many)
        sent = [err for err, _ in results if err != -1]
        assert sent[:3] == [0, errno.ENOENT, 0]
        assert results[-1][0] == -1
        assert len(sent) < len(many)
