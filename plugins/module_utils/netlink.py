# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Minimal generic netlink client: message codec, family lookup, dumps, batches.

Stdlib only, no Ansible imports, Python 3.11 compatible: it runs on the managed host.
"""

from __future__ import annotations

import contextlib
import errno as _errno
import os
import socket
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

# netlink protocol numbers and message types (linux/netlink.h)
NETLINK_GENERIC = 16
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4

NLM_F_REQUEST = 0x01
NLM_F_MULTI = 0x02
NLM_F_ACK = 0x04
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_CAPPED = 0x100  # in an ack: the echoed request was cut to its header
NLM_F_ACK_TLVS = 0x200  # in an ack: extended ack attributes follow

SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLMSGERR_ATTR_MSG = 1

NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xFFFF

# generic netlink controller (linux/genetlink.h)
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_VERSION = 3

NLMSGHDR = struct.Struct("=IHHII")
GENLMSGHDR = struct.Struct("=BBH")
NLATTR = struct.Struct("=HH")
NLMSGERR = struct.Struct("=i")

_U8 = struct.Struct("=B")
_U16 = struct.Struct("=H")
_BE16 = struct.Struct(">H")
_U32 = struct.Struct("=I")
_BE32 = struct.Struct(">I")
_U64 = struct.Struct("=Q")


def align(length: int) -> int:
    return (length + 3) & ~3


class NetlinkError(Exception):
    """A request the kernel refused; errno is positive, message is for humans."""

    def __init__(self, err: int, message: str = "", request: object = None):
        self.errno = err
        self.message = message or os.strerror(err)
        self.request = request
        super().__init__(self.message)


# ---------------------------------------------------------------- attributes


def attr(atype: int, payload: bytes) -> bytes:
    """One attribute: header, payload, padding to 4 bytes."""
    length = NLATTR.size + len(payload)
    return NLATTR.pack(length, atype) + payload + b"\0" * (align(length) - length)


def attr_u8(atype: int, value: int) -> bytes:
    return attr(atype, _U8.pack(value))


def attr_u16(atype: int, value: int) -> bytes:
    return attr(atype, _U16.pack(value))


def attr_be16(atype: int, value: int) -> bytes:
    return attr(atype, _BE16.pack(value))


def attr_u32(atype: int, value: int) -> bytes:
    return attr(atype, _U32.pack(value))


def attr_be32(atype: int, value: int) -> bytes:
    return attr(atype, _BE32.pack(value))


def attr_str(atype: int, value: str) -> bytes:
    """NUL-terminated string, as the kernel's NLA_NUL_STRING policies expect."""
    return attr(atype, value.encode() + b"\0")


def attr_nested(atype: int, children: Iterable[bytes]) -> bytes:
    return attr(atype | NLA_F_NESTED, b"".join(children))


def parse_attrs(data: bytes | memoryview, offset: int = 0, end: int | None = None) -> dict:
    """Attributes of one level as {type: payload bytes}; the last one of a type wins."""
    out = {}
    end = len(data) if end is None else end
    unpack = NLATTR.unpack_from
    if not isinstance(data, bytes):
        data = bytes(data)
    # a hot loop (every attribute of an 11,000-entry table): kept free of calls
    while offset + 4 <= end:
        length, atype = unpack(data, offset)
        if length < 4 or offset + length > end:
            raise ValueError(f"malformed attribute at offset {offset} (length {length})")
        out[atype & NLA_TYPE_MASK] = data[offset + 4 : offset + length]
        offset += (length + 3) & ~3
    return out


def get_u8(payload: bytes) -> int:
    return _U8.unpack_from(payload)[0]


def get_u16(payload: bytes) -> int:
    return _U16.unpack_from(payload)[0]


def get_be16(payload: bytes) -> int:
    return _BE16.unpack_from(payload)[0]


def get_u32(payload: bytes) -> int:
    return _U32.unpack_from(payload)[0]


def get_be32(payload: bytes) -> int:
    return _BE32.unpack_from(payload)[0]


def get_u64(payload: bytes) -> int:
    return _U64.unpack_from(payload)[0]


def get_str(payload: bytes) -> str:
    return payload.split(b"\0", 1)[0].decode()


# ---------------------------------------------------------------- messages


def genl_message(
    family: int,
    cmd: int,
    attrs: bytes = b"",
    flags: int = NLM_F_REQUEST,
    seq: int = 0,
    version: int = 1,
    pid: int = 0,
) -> bytes:
    """nlmsghdr + genlmsghdr + attributes."""
    length = NLMSGHDR.size + GENLMSGHDR.size + len(attrs)
    return NLMSGHDR.pack(length, family, flags, seq, pid) + GENLMSGHDR.pack(cmd, version, 0) + attrs


@dataclass(slots=True)
class Message:
    """One received netlink message; for generic netlink, cmd and attrs are decoded."""

    type: int
    flags: int
    seq: int
    pid: int
    payload: bytes
    cmd: int = 0
    attrs: dict = field(default_factory=dict)
    error: int = 0  # for NLMSG_ERROR: positive errno, 0 for a plain ack
    ext_msg: str = ""  # kernel's extended ack text, when it sent one


def parse_messages(data: bytes | memoryview) -> Iterator[Message]:
    """Split a receive buffer into messages; decode genl headers and error payloads."""
    offset = 0
    total = len(data)
    while offset + NLMSGHDR.size <= total:
        length, mtype, flags, seq, pid = NLMSGHDR.unpack_from(data, offset)
        if length < NLMSGHDR.size or offset + length > total:
            raise ValueError(f"malformed netlink message at offset {offset} (length {length})")
        body = bytes(data[offset + NLMSGHDR.size : offset + length])
        msg = Message(mtype, flags, seq, pid, body)
        if mtype == NLMSG_ERROR:
            msg.error = -NLMSGERR.unpack_from(body)[0]
            if flags & NLM_F_ACK_TLVS:
                # error code, echoed request header (and its body unless capped), then TLVs
                echoed = NLMSGHDR.size
                if not flags & NLM_F_CAPPED:
                    echoed = NLMSGHDR.unpack_from(body, NLMSGERR.size)[0]
                tlvs = parse_attrs(body, NLMSGERR.size + align(echoed))
                if NLMSGERR_ATTR_MSG in tlvs:
                    msg.ext_msg = get_str(tlvs[NLMSGERR_ATTR_MSG])
        elif mtype == NLMSG_DONE:
            if len(body) >= NLMSGERR.size:
                msg.error = -NLMSGERR.unpack_from(body)[0]
        elif mtype >= GENL_ID_CTRL and len(body) >= GENLMSGHDR.size:
            msg.cmd = body[0]
            msg.attrs = parse_attrs(body, GENLMSGHDR.size)
        yield msg
        offset += align(length)


# ---------------------------------------------------------------- socket


class GenlSocket:
    """A generic netlink socket bound to one family.

    request() sends one message and waits for its reply or ack, dump() collects a
    multipart reply, batch() sends many messages in few writes and checks the acks in
    bulk: the kernel handles a write's messages in order within the sendmsg call.
    """

    RCVBUF = 4 << 20
    SNDBUF = 4 << 20
    TIMEOUT = 60.0  # seconds; the kernel answers at once, this only guards against a hang
    # one write: at most 64 KiB (well under the send buffer) and 512 requests, since a
    # reply to a GET can take a 4 KiB buffer and 512 of them must fit the receive buffer
    CHUNK_BYTES = 64 << 10
    CHUNK_MESSAGES = 512

    def __init__(self, family_name: str):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self._setbuf(socket.SO_RCVBUF, 33, self.RCVBUF)  # 33: SO_RCVBUFFORCE
        self._setbuf(socket.SO_SNDBUF, 32, self.SNDBUF)  # 32: SO_SNDBUFFORCE
        for opt in (NETLINK_CAP_ACK, NETLINK_EXT_ACK):
            with contextlib.suppress(OSError):  # older kernels: plain acks still work
                self.sock.setsockopt(SOL_NETLINK, opt, 1)
        self.sock.bind((0, 0))
        # a kernel-side receive timeout: settimeout() would add a poll() to every recv
        self.sock.setsockopt(
            socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", int(self.TIMEOUT), 0)
        )
        self.pid = self.sock.getsockname()[0]
        self.seq = 0
        self._buf = bytearray(1 << 20)
        self.family_name = family_name
        self.family_id, self.version = self.resolve_family(family_name)

    def _setbuf(self, opt: int, force_opt: int, size: int) -> None:
        # FORCE passes over net.core.*mem_max for root; fall back to the capped size
        for option in (force_opt, opt):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, option, size)
                return
            except OSError:
                continue

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> GenlSocket:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def resolve_family(self, name: str) -> tuple[int, int]:
        """Family id and version through the controller; ENOENT if not registered."""
        self.family_id = GENL_ID_CTRL
        self.version = 1
        reply = self.request(CTRL_CMD_GETFAMILY, attr_str(CTRL_ATTR_FAMILY_NAME, name))
        attrs = reply[0].attrs
        version = get_u32(attrs[CTRL_ATTR_VERSION]) if CTRL_ATTR_VERSION in attrs else 1
        return get_u16(attrs[CTRL_ATTR_FAMILY_ID]), version

    def build(self, cmd: int, attrs: bytes = b"", flags: int = NLM_F_REQUEST) -> tuple[int, bytes]:
        seq = self.next_seq()
        return seq, genl_message(self.family_id, cmd, attrs, flags, seq, self.version)

    def _recv(self) -> list[Message]:
        try:
            nbytes = self.sock.recv_into(self._buf)
        except OSError as exc:
            if exc.errno in (_errno.EAGAIN, _errno.EWOULDBLOCK):
                raise NetlinkError(_errno.ETIMEDOUT, "no answer from the kernel") from None
            if exc.errno == _errno.ENOBUFS:
                # replies were dropped: what the kernel did with the requests is unknown
                raise NetlinkError(
                    _errno.ENOBUFS, "netlink receive buffer overrun, replies were lost"
                ) from None
            raise
        return list(parse_messages(memoryview(self._buf)[:nbytes]))

    def request(self, cmd: int, attrs: bytes = b"", dump: bool = False) -> list[Message]:
        """Send one request; return its data messages, raise NetlinkError on error."""
        flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if dump else 0)
        seq, data = self.build(cmd, attrs, flags)
        self.sock.send(data)
        out = []
        interrupted = False
        while True:
            for msg in self._recv():
                if msg.seq != seq:
                    continue  # a late reply to an earlier request
                if msg.type == NLMSG_ERROR:
                    if msg.error:
                        raise NetlinkError(msg.error, msg.ext_msg)
                    return out
                if msg.type == NLMSG_DONE:
                    if msg.error:
                        raise NetlinkError(msg.error, msg.ext_msg)
                    if interrupted:
                        # read to the end first: a dump still running would refuse the next
                        raise NetlinkError(_errno.EINTR, "dump cut by a concurrent change")
                    return out
                if msg.type == NLMSG_OVERRUN:
                    raise NetlinkError(_errno.ENOBUFS, "netlink overrun")
                out.append(msg)
                interrupted = interrupted or bool(msg.flags & NLM_F_DUMP_INTR)

    def dump(self, cmd: int, attrs: bytes = b"", attempts: int = 3) -> list[Message]:
        """All messages of a multipart reply; retried if a concurrent change cut it."""
        for attempt in range(attempts):
            try:
                return self.request(cmd, attrs, dump=True)
            except NetlinkError as exc:
                if exc.errno != _errno.EINTR or attempt == attempts - 1:
                    raise
        return []

    def batch(
        self, messages: list[tuple[int, bytes]], stop_on_error: bool = True
    ) -> list[tuple[int, list[Message]]]:
        """Send (cmd, attrs) requests in as few writes as fit the buffers.

        Returns, per message in order, (errno or 0, reply messages). Unless told
        otherwise, stops sending after the first write that had a failure; messages never
        sent get -1. Only the last request of a write asks for an ack: the kernel handles
        a write's requests in order and reports every failure, so the one ack tells that
        all the others went through (one read per write, not one per request).
        """
        results: list[tuple[int, list[Message]]] = [(-1, []) for _msg in messages]
        index = 0
        while index < len(messages):
            end, size = index, 0
            while end < len(messages) and (
                end == index or (size < self.CHUNK_BYTES and end - index < self.CHUNK_MESSAGES)
            ):
                size += len(messages[end][1]) + NLMSGHDR.size + GENLMSGHDR.size
                end += 1
            chunk = bytearray()
            seqs = {}
            for pos in range(index, end):
                cmd, attrs = messages[pos]
                flags = NLM_F_REQUEST | (NLM_F_ACK if pos == end - 1 else 0)
                seq, data = self.build(cmd, attrs, flags)
                seqs[seq] = pos
                chunk += data
            index = end
            self.sock.send(chunk)
            final_seq = seq
            errors: dict[int, Message] = {}
            replies: dict[int, list[Message]] = {}
            done = False
            while not done:
                for msg in self._recv():
                    if msg.seq not in seqs:
                        continue  # a late answer to an earlier request
                    if msg.type == NLMSG_OVERRUN:
                        raise NetlinkError(_errno.ENOBUFS, "netlink overrun")
                    if msg.type == NLMSG_ERROR:
                        if msg.error:
                            errors[msg.seq] = msg
                        if msg.seq == final_seq:
                            done = True
                    else:
                        replies.setdefault(msg.seq, []).append(msg)
            for seq, pos in seqs.items():
                err = errors.get(seq)
                found = replies.get(seq, [])
                results[pos] = (err.error, [*found, err]) if err else (0, found)
            if errors and stop_on_error:
                break
        return results
