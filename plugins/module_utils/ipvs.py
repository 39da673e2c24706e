# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPVS over generic netlink (family "IPVS"): read and change the live table.

Commands and attributes follow include/uapi/linux/ip_vs.h. Services and destinations are
edited in place with IPVS_CMD_SET_SERVICE / IPVS_CMD_SET_DEST, never deleted and re-added.
Stdlib only, no Ansible imports.
"""

from __future__ import annotations

import errno
import os
import shutil
import struct
import subprocess
from dataclasses import dataclass, field

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    AF_INET,
    AF_INET6,
    FORWARDING,
    FORWARDING_NAMES,
    PROTOCOL_NAMES,
    PROTOCOLS,
    TUNNEL_CHECKSUM_NAMES,
    TUNNEL_CHECKSUMS,
    TUNNEL_TYPE_NAMES,
    TUNNEL_TYPES,
    Destination,
    Service,
    Stats,
    SyncDaemon,
    Timeouts,
    packed16,
    unpack_address,
)
from ansible_collections.lvs.cluster.plugins.module_utils.netlink import (
    GenlSocket,
    Message,
    NetlinkError,
    attr,
    attr_be16,
    attr_be32,
    attr_nested,
    attr_str,
    attr_u8,
    attr_u16,
    attr_u32,
    get_be16,
    get_be32,
    get_str,
    get_u8,
    get_u16,
    get_u32,
    get_u64,
    parse_attrs,
)

GENL_NAME = "IPVS"

# commands
CMD_NEW_SERVICE = 1
CMD_SET_SERVICE = 2
CMD_DEL_SERVICE = 3
CMD_GET_SERVICE = 4
CMD_NEW_DEST = 5
CMD_SET_DEST = 6
CMD_DEL_DEST = 7
CMD_GET_DEST = 8
CMD_NEW_DAEMON = 9
CMD_DEL_DAEMON = 10
CMD_GET_DAEMON = 11
CMD_SET_CONFIG = 12
CMD_GET_CONFIG = 13
CMD_GET_INFO = 15
CMD_ZERO = 16
CMD_FLUSH = 17

# first level attributes
CMD_ATTR_SERVICE = 1
CMD_ATTR_DEST = 2
CMD_ATTR_DAEMON = 3
CMD_ATTR_TIMEOUT_TCP = 4
CMD_ATTR_TIMEOUT_TCP_FIN = 5
CMD_ATTR_TIMEOUT_UDP = 6

SVC_ATTR_AF = 1
SVC_ATTR_PROTOCOL = 2
SVC_ATTR_ADDR = 3
SVC_ATTR_PORT = 4
SVC_ATTR_FWMARK = 5
SVC_ATTR_SCHED_NAME = 6
SVC_ATTR_FLAGS = 7
SVC_ATTR_TIMEOUT = 8
SVC_ATTR_NETMASK = 9
SVC_ATTR_STATS = 10
SVC_ATTR_PE_NAME = 11
SVC_ATTR_STATS64 = 12

DEST_ATTR_ADDR = 1
DEST_ATTR_PORT = 2
DEST_ATTR_FWD_METHOD = 3
DEST_ATTR_WEIGHT = 4
DEST_ATTR_U_THRESH = 5
DEST_ATTR_L_THRESH = 6
DEST_ATTR_ACTIVE_CONNS = 7
DEST_ATTR_INACT_CONNS = 8
DEST_ATTR_PERSIST_CONNS = 9
DEST_ATTR_STATS = 10
DEST_ATTR_ADDR_FAMILY = 11
DEST_ATTR_STATS64 = 12
DEST_ATTR_TUN_TYPE = 13
DEST_ATTR_TUN_PORT = 14
DEST_ATTR_TUN_FLAGS = 15

DAEMON_ATTR_STATE = 1
DAEMON_ATTR_MCAST_IFN = 2
DAEMON_ATTR_SYNC_ID = 3
DAEMON_ATTR_SYNC_MAXLEN = 4
DAEMON_ATTR_MCAST_GROUP = 5
DAEMON_ATTR_MCAST_GROUP6 = 6
DAEMON_ATTR_MCAST_PORT = 7
DAEMON_ATTR_MCAST_TTL = 8

INFO_ATTR_VERSION = 1
INFO_ATTR_CONN_TAB_SIZE = 2

STATS_FIELDS = (
    "conns",
    "inpkts",
    "outpkts",
    "inbytes",
    "outbytes",
    "cps",
    "inpps",
    "outpps",
    "inbps",
    "outbps",
)

FLAGS = struct.Struct("=II")  # struct ip_vs_flags: flags, mask

DAEMON_STATES = {"master": 1, "backup": 2}
DAEMON_ROLES = {v: k for k, v in DAEMON_STATES.items()}


class IPVSUnavailable(Exception):
    """The kernel has no IPVS family (ip_vs not loaded and not loadable)."""


# ---------------------------------------------------------------- encode


def encode_service(svc: Service, full: bool = True) -> bytes:
    """IPVS_CMD_ATTR_SERVICE; identifying attributes only unless full."""
    parts = [attr_u16(SVC_ATTR_AF, svc.family)]
    if svc.fwmark:
        parts.append(attr_u32(SVC_ATTR_FWMARK, svc.fwmark))
    else:
        parts += [
            attr_u16(SVC_ATTR_PROTOCOL, PROTOCOLS[svc.protocol]),
            attr(SVC_ATTR_ADDR, svc.packed16),
            attr_be16(SVC_ATTR_PORT, svc.port),
        ]
    if full:
        parts.append(attr_str(SVC_ATTR_SCHED_NAME, svc.scheduler))
        if svc.pe_name:
            parts.append(attr_str(SVC_ATTR_PE_NAME, svc.pe_name))
        parts += [
            attr(SVC_ATTR_FLAGS, FLAGS.pack(svc.flags, 0xFFFFFFFF)),
            attr_u32(SVC_ATTR_TIMEOUT, svc.timeout),
            # an IPv4 mask travels in network order, an IPv6 prefix length as a number
            attr_be32(SVC_ATTR_NETMASK, svc.netmask)
            if svc.family == AF_INET
            else attr_u32(SVC_ATTR_NETMASK, svc.netmask),
        ]
    return attr_nested(CMD_ATTR_SERVICE, parts)


def encode_dest(dest: Destination, full: bool = True) -> bytes:
    parts = [
        attr_u16(DEST_ATTR_ADDR_FAMILY, dest.family),
        attr(DEST_ATTR_ADDR, dest.packed16),
        attr_be16(DEST_ATTR_PORT, dest.port),
    ]
    if full:
        parts += [
            attr_u32(DEST_ATTR_FWD_METHOD, FORWARDING[dest.forwarding]),
            attr_u32(DEST_ATTR_WEIGHT, dest.weight),
            attr_u32(DEST_ATTR_U_THRESH, dest.upper_threshold),
            attr_u32(DEST_ATTR_L_THRESH, dest.lower_threshold),
        ]
        if dest.forwarding == "tun":
            parts += [
                attr_u8(DEST_ATTR_TUN_TYPE, TUNNEL_TYPES[dest.tunnel_type]),
                attr_be16(DEST_ATTR_TUN_PORT, dest.tunnel_port),
                attr_u16(DEST_ATTR_TUN_FLAGS, TUNNEL_CHECKSUMS[dest.tunnel_checksum]),
            ]
    return attr_nested(CMD_ATTR_DEST, parts)


def encode_daemon(daemon: SyncDaemon, full: bool = True) -> bytes:
    parts = [
        attr_u32(DAEMON_ATTR_STATE, DAEMON_STATES[daemon.role]),
        attr_str(DAEMON_ATTR_MCAST_IFN, daemon.interface),
        attr_u32(DAEMON_ATTR_SYNC_ID, daemon.syncid),
    ]
    if full:
        if daemon.sync_maxlen:
            parts.append(attr_u16(DAEMON_ATTR_SYNC_MAXLEN, daemon.sync_maxlen))
        if daemon.mcast_group:
            if ":" in daemon.mcast_group:
                parts.append(attr(DAEMON_ATTR_MCAST_GROUP6, packed16(daemon.mcast_group)))
            else:
                parts.append(attr(DAEMON_ATTR_MCAST_GROUP, packed16(daemon.mcast_group)[:4]))
        if daemon.mcast_port:
            parts.append(attr_u16(DAEMON_ATTR_MCAST_PORT, daemon.mcast_port))
        if daemon.mcast_ttl:
            parts.append(attr_u8(DAEMON_ATTR_MCAST_TTL, daemon.mcast_ttl))
    return attr_nested(CMD_ATTR_DAEMON, parts)


def encode_timeouts(tcp: int | None, tcp_fin: int | None, udp: int | None) -> bytes:
    """Only the given timeouts: the kernel keeps the others as they are."""
    parts = []
    for atype, value in (
        (CMD_ATTR_TIMEOUT_TCP, tcp),
        (CMD_ATTR_TIMEOUT_TCP_FIN, tcp_fin),
        (CMD_ATTR_TIMEOUT_UDP, udp),
    ):
        if value is not None:
            parts.append(attr_u32(atype, value))
    return b"".join(parts)


# ---------------------------------------------------------------- decode


def decode_stats(attrs: dict, wide: bool) -> Stats:
    values = {}
    for number, name in enumerate(STATS_FIELDS, start=1):
        raw = attrs.get(number)
        if raw is None:
            values[name] = 0
        elif wide or len(raw) == 8:
            values[name] = get_u64(raw)
        else:
            values[name] = get_u32(raw)
    return Stats(**values)


def _stats_of(attrs: dict, wide_attr: int, narrow_attr: int) -> Stats | None:
    if wide_attr in attrs:
        return decode_stats(parse_attrs(attrs[wide_attr]), True)
    if narrow_attr in attrs:
        return decode_stats(parse_attrs(attrs[narrow_attr]), False)
    return None


def decode_service(attrs: dict, stats: bool = True) -> Service:
    """A service from the attributes nested in IPVS_CMD_ATTR_SERVICE.

    Counters are most of a reply's attributes: leave them out when they are not wanted.
    """
    family = get_u16(attrs[SVC_ATTR_AF])
    flags, mask = FLAGS.unpack_from(attrs[SVC_ATTR_FLAGS]) if SVC_ATTR_FLAGS in attrs else (0, 0)
    raw_mask = attrs.get(SVC_ATTR_NETMASK)
    netmask = None
    if raw_mask is not None:
        netmask = get_be32(raw_mask) if family == AF_INET else get_u32(raw_mask)
    common = dict(
        family=family,
        scheduler=get_str(attrs[SVC_ATTR_SCHED_NAME]) if SVC_ATTR_SCHED_NAME in attrs else "",
        flags=flags & mask,
        timeout=get_u32(attrs[SVC_ATTR_TIMEOUT]) if SVC_ATTR_TIMEOUT in attrs else 0,
        netmask=netmask,
        pe_name=get_str(attrs[SVC_ATTR_PE_NAME]) if SVC_ATTR_PE_NAME in attrs else "",
        stats=_stats_of(attrs, SVC_ATTR_STATS64, SVC_ATTR_STATS) if stats else None,
    )
    if SVC_ATTR_FWMARK in attrs:
        return Service(fwmark=get_u32(attrs[SVC_ATTR_FWMARK]), **common)
    return Service(
        protocol=PROTOCOL_NAMES.get(get_u16(attrs[SVC_ATTR_PROTOCOL]), "tcp"),
        address=unpack_address(family, attrs[SVC_ATTR_ADDR]),
        port=get_be16(attrs[SVC_ATTR_PORT]),
        **common,
    )


_ZERO = b"\0\0\0\0"
_u32 = struct.Struct("=I").unpack_from
_be16 = struct.Struct(">H").unpack_from


def decode_dest(attrs: dict, service_family: int = AF_INET, stats: bool = True) -> Destination:
    """A destination from the attributes nested in IPVS_CMD_ATTR_DEST."""
    get = attrs.get
    family = (
        get_u16(attrs[DEST_ATTR_ADDR_FAMILY])
        if DEST_ATTR_ADDR_FAMILY in attrs
        else (service_family)
    )
    tun_type = get(DEST_ATTR_TUN_TYPE)
    tun_port = get(DEST_ATTR_TUN_PORT)
    tun_flags = get(DEST_ATTR_TUN_FLAGS)
    return Destination(
        unpack_address(family, attrs[DEST_ATTR_ADDR]),
        _be16(attrs[DEST_ATTR_PORT])[0],
        _u32(attrs[DEST_ATTR_WEIGHT])[0],
        FORWARDING_NAMES.get(_u32(attrs[DEST_ATTR_FWD_METHOD])[0] & 7, "dr"),
        _u32(get(DEST_ATTR_U_THRESH, _ZERO))[0],
        _u32(get(DEST_ATTR_L_THRESH, _ZERO))[0],
        TUNNEL_TYPE_NAMES.get(get_u8(tun_type), "ipip") if tun_type else "ipip",
        _be16(tun_port)[0] if tun_port else 0,
        TUNNEL_CHECKSUM_NAMES.get(get_u16(tun_flags), "nocsum") if tun_flags else "nocsum",
        _u32(get(DEST_ATTR_ACTIVE_CONNS, _ZERO))[0],
        _u32(get(DEST_ATTR_INACT_CONNS, _ZERO))[0],
        _u32(get(DEST_ATTR_PERSIST_CONNS, _ZERO))[0],
        _stats_of(attrs, DEST_ATTR_STATS64, DEST_ATTR_STATS) if stats else None,
    )


def decode_daemon(attrs: dict) -> SyncDaemon:
    group = None
    if DAEMON_ATTR_MCAST_GROUP6 in attrs:
        group = unpack_address(AF_INET6, attrs[DAEMON_ATTR_MCAST_GROUP6])
    elif DAEMON_ATTR_MCAST_GROUP in attrs:
        group = unpack_address(AF_INET, attrs[DAEMON_ATTR_MCAST_GROUP])
    return SyncDaemon(
        role=DAEMON_ROLES.get(get_u32(attrs[DAEMON_ATTR_STATE]), "master"),
        interface=get_str(attrs[DAEMON_ATTR_MCAST_IFN]),
        syncid=get_u32(attrs[DAEMON_ATTR_SYNC_ID]),
        sync_maxlen=get_u16(attrs[DAEMON_ATTR_SYNC_MAXLEN])
        if DAEMON_ATTR_SYNC_MAXLEN in attrs
        else None,
        mcast_group=group,
        mcast_port=get_u16(attrs[DAEMON_ATTR_MCAST_PORT])
        if DAEMON_ATTR_MCAST_PORT in attrs
        else None,
        mcast_ttl=get_u8(attrs[DAEMON_ATTR_MCAST_TTL]) if DAEMON_ATTR_MCAST_TTL in attrs else None,
    )


def decode_timeouts(attrs: dict) -> Timeouts:
    return Timeouts(
        tcp=get_u32(attrs[CMD_ATTR_TIMEOUT_TCP]),
        tcp_fin=get_u32(attrs[CMD_ATTR_TIMEOUT_TCP_FIN]),
        udp=get_u32(attrs[CMD_ATTR_TIMEOUT_UDP]),
    )


def services_from(messages: list[Message], stats: bool = True) -> list[Service]:
    return [
        decode_service(parse_attrs(m.attrs[CMD_ATTR_SERVICE]), stats)
        for m in messages
        if CMD_ATTR_SERVICE in m.attrs
    ]


def dests_from(
    messages: list[Message], service_family: int = AF_INET, stats: bool = True
) -> list[Destination]:
    return [
        decode_dest(parse_attrs(m.attrs[CMD_ATTR_DEST]), service_family, stats)
        for m in messages
        if CMD_ATTR_DEST in m.attrs
    ]


# ---------------------------------------------------------------- errors


def explain(
    kind: str,
    err: int,
    svc: Service | None = None,
    dest: Destination | None = None,
    daemon: SyncDaemon | None = None,
    kernel_text: str = "",
) -> str:
    """Turn a kernel errno for an IPVS request into a sentence."""
    svc_name = svc.name() if svc else "service"
    dest_name = f"destination {dest.endpoint()} of {svc_name}" if dest else ""
    text = None
    if err == errno.EPERM:
        text = "operation not permitted (IPVS changes need CAP_NET_ADMIN: run as root)"
    elif err == errno.EAFNOSUPPORT:
        text = "address family not supported by the kernel (is the ipv6 module loaded?)"
    elif kind in ("add_service", "set_service") and err == errno.ENOENT and svc:
        if svc.pe_name:
            text = (
                f"scheduler '{svc.scheduler}' or persistence engine '{svc.pe_name}' is not "
                f"available (module ip_vs_{svc.scheduler} or ip_vs_pe_{svc.pe_name} missing?)"
            )
        else:
            text = (
                f"scheduler '{svc.scheduler}' is not available "
                f"(module ip_vs_{svc.scheduler} missing?)"
            )
    elif err == errno.ESRCH and kind.endswith("daemon"):
        text = f"{daemon.role if daemon else 'sync'} sync daemon is not running"
    elif err == errno.ESRCH:
        text = f"{svc_name} does not exist"
    elif kind == "add_service" and err == errno.EEXIST:
        text = f"{svc_name} already exists"
    elif kind == "add_dest" and err == errno.EEXIST:
        text = f"{dest_name} already exists"
    elif kind in ("set_dest", "del_dest") and err == errno.ENOENT:
        text = f"{dest_name} does not exist"
    elif kind.endswith("dest") and err == errno.ERANGE:
        text = f"{dest_name}: weight below 0 or lower threshold above upper threshold"
    elif kind == "start_daemon" and err == errno.EEXIST:
        text = f"{daemon.role if daemon else 'sync'} sync daemon is already running"
    elif kind == "start_daemon" and err == errno.ENODEV:
        text = f"interface '{daemon.interface if daemon else '?'}' does not exist"
    elif err == errno.EINVAL:
        what = dest_name or (svc_name if svc else kind)
        text = f"the kernel rejected {what} as invalid"
    if text is None:
        text = os.strerror(err)
    if kernel_text:
        text += f" (kernel: {kernel_text})"
    return text


# ---------------------------------------------------------------- kernel modules


def _modprobe() -> str | None:
    return shutil.which("modprobe") or next(
        (p for p in ("/usr/sbin/modprobe", "/sbin/modprobe") if os.path.exists(p)), None
    )


def module_loaded(name: str) -> bool:
    return os.path.isdir(f"/sys/module/{name}")


def _run(cmd: list[str]) -> int:
    # stdlib fallback for callers without Ansible; modules pass their run_command
    return subprocess.run(cmd, capture_output=True, check=False).returncode  # pylint: disable=ansible-bad-function


def run_with(module):
    """A `run` for load_module() from an AnsibleModule (duck-typed: no Ansible import)."""
    return lambda cmd: module.run_command(cmd)[0]


def load_module(name: str, dry_run: bool = False, run=None) -> bool:
    """modprobe a module (dry_run: only check that it could be loaded); True if fine.

    `run` takes an argument list and returns the exit code.
    """
    if module_loaded(name):
        return True
    tool = _modprobe()
    if tool is None:
        return True  # no kmod: nothing to load with, the kernel's answer will tell
    cmd = [tool, "-q"] + (["-n"] if dry_run else []) + [name]
    return (run or _run)(cmd) == 0


# ---------------------------------------------------------------- operations


@dataclass
class ApplyResult:
    applied: list = field(default_factory=list)
    failed: list = field(default_factory=list)  # (op, message)
    not_attempted: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted


_OP_COMMANDS = {
    "add_service": (CMD_NEW_SERVICE, True, None),
    "set_service": (CMD_SET_SERVICE, True, None),
    "del_service": (CMD_DEL_SERVICE, False, None),
    "add_dest": (CMD_NEW_DEST, False, True),
    "set_dest": (CMD_SET_DEST, False, True),
    "del_dest": (CMD_DEL_DEST, False, False),
}


def encode_op(op) -> tuple[int, bytes]:
    """(command, attributes) for a planner operation (kind, service, dest)."""
    cmd, full_svc, full_dest = _OP_COMMANDS[op.kind]
    attrs = encode_service(op.service, full=full_svc)
    if full_dest is not None:
        attrs += encode_dest(op.dest, full=full_dest)
    return cmd, attrs


class IPVS:
    """The live IPVS table of this host (this network namespace)."""

    def __init__(self, load: bool = True, run=None):
        # asking the genl controller for "IPVS" makes the kernel load ip_vs on its own,
        # so without leave to load, look first (/proc/net/ip_vs exists once it is loaded)
        if not load and not os.path.exists("/proc/net/ip_vs"):
            raise IPVSUnavailable("the ip_vs kernel module is not loaded")
        self.run = run
        try:
            self.nl = GenlSocket(GENL_NAME)
        except NetlinkError as exc:
            if exc.errno != errno.ENOENT:
                raise
            if not load:
                raise IPVSUnavailable("the ip_vs kernel module is not loaded") from exc
            if not load_module("ip_vs", run=run):
                raise IPVSUnavailable(
                    "IPVS is not available: the ip_vs kernel module could not be loaded"
                ) from exc
            self.nl = GenlSocket(GENL_NAME)

    def close(self) -> None:
        self.nl.close()

    def __enter__(self) -> IPVS:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # reading

    def info(self) -> dict:
        attrs = self.nl.request(CMD_GET_INFO)[0].attrs
        version = get_u32(attrs[INFO_ATTR_VERSION])
        return {
            "version": f"{version >> 16 & 0xFF}.{version >> 8 & 0xFF}.{version & 0xFF}",
            "conn_tab_size": get_u32(attrs[INFO_ATTR_CONN_TAB_SIZE]),
        }

    def services(self, destinations: bool = True, stats: bool = False) -> list[Service]:
        """The whole table: one service dump, then one destination dump per service."""
        services = services_from(self.nl.dump(CMD_GET_SERVICE), stats)
        if destinations:
            self._fill_destinations(services, stats)
        return services

    def destinations(self, svc: Service, stats: bool = False) -> list[Destination]:
        msgs = self.nl.dump(CMD_GET_DEST, encode_service(svc, full=False))
        return dests_from(msgs, svc.family, stats)

    def _fill_destinations(self, services: list[Service], stats: bool) -> None:
        # one dump per service: the kernel finishes a dump only when it is read (its
        # NLMSG_DONE comes with the next read), so a second dump in the same write would
        # be refused with EBUSY; these cannot be batched
        for svc in services:
            svc.destinations = self.destinations(svc, stats)

    def get_services(
        self, wanted: list[Service], destinations: bool = True, stats: bool = False
    ) -> dict:
        """Look up only these services ({key: Service or None}): one batched lookup, then
        a destination dump for each that exists."""
        results = self.nl.batch(
            [(CMD_GET_SERVICE, encode_service(s, full=False)) for s in wanted], stop_on_error=False
        )
        found = {}
        for svc, (err, replies) in zip(wanted, results, strict=True):
            if err == errno.ESRCH:
                found[svc.key] = None
            elif err:
                raise NetlinkError(err, explain("get_service", err, svc))
            else:
                found[svc.key] = services_from(replies, stats)[0]
        if destinations:
            self._fill_destinations([s for s in found.values() if s is not None], stats)
        return found

    def daemons(self) -> list[SyncDaemon]:
        return [
            decode_daemon(parse_attrs(m.attrs[CMD_ATTR_DAEMON]))
            for m in self.nl.dump(CMD_GET_DAEMON)
            if CMD_ATTR_DAEMON in m.attrs
        ]

    def timeouts(self) -> Timeouts:
        return decode_timeouts(self.nl.request(CMD_GET_CONFIG)[0].attrs)

    # changing

    def apply(self, ops: list) -> ApplyResult:
        """Send planner operations in batches; report what was applied, what failed."""
        result = ApplyResult()
        outcomes = self.nl.batch([encode_op(op) for op in ops])
        for op, (err, replies) in zip(ops, outcomes, strict=True):
            if err == 0:
                result.applied.append(op)
            elif err < 0:
                result.not_attempted.append(op)
            else:
                kernel_text = next((m.ext_msg for m in replies if m.ext_msg), "")
                result.failed.append(
                    (op, explain(op.kind, err, op.service, op.dest, kernel_text=kernel_text))
                )
        return result

    def start_daemon(self, daemon: SyncDaemon) -> None:
        self._daemon_cmd(CMD_NEW_DAEMON, "start_daemon", daemon, True)

    def stop_daemon(self, daemon: SyncDaemon) -> None:
        self._daemon_cmd(CMD_DEL_DAEMON, "stop_daemon", daemon, False)

    def _daemon_cmd(self, cmd: int, kind: str, daemon: SyncDaemon, full: bool) -> None:
        try:
            self.nl.request(cmd, encode_daemon(daemon, full))
        except NetlinkError as exc:
            raise NetlinkError(
                exc.errno,
                explain(
                    kind,
                    exc.errno,
                    daemon=daemon,
                    kernel_text=exc.message if exc.message != os.strerror(exc.errno) else "",
                ),
            ) from exc

    def set_timeouts(
        self, tcp: int | None = None, tcp_fin: int | None = None, udp: int | None = None
    ) -> None:
        self.nl.request(CMD_SET_CONFIG, encode_timeouts(tcp, tcp_fin, udp))

    def flush(self) -> None:
        self.nl.request(CMD_FLUSH)


__all__ = ["AF_INET", "AF_INET6", "IPVS", "ApplyResult", "IPVSUnavailable", "NetlinkError"]
