# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""IPVS records as plain data classes, their identity keys and an ipvsadm-save renderer.

Numbers follow include/uapi/linux/ip_vs.h. Stdlib only, no Ansible imports.
"""

from __future__ import annotations

import functools
import socket
from dataclasses import dataclass, field

AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
FAMILY_NAMES = {AF_INET: "ipv4", AF_INET6: "ipv6"}
FAMILIES = {v: k for k, v in FAMILY_NAMES.items()}

PROTOCOLS = {"tcp": 6, "udp": 17, "sctp": 132}
PROTOCOL_NAMES = {v: k for k, v in PROTOCOLS.items()}

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf")

# service flags
SVC_F_PERSISTENT = 0x0001
SVC_F_HASHED = 0x0002
SVC_F_ONEPACKET = 0x0004
SVC_F_SCHED1 = 0x0008  # sh/mh: fall back to another server when the chosen one is unusable
SVC_F_SCHED2 = 0x0010  # sh/mh: hash the source port too
SVC_F_SCHED3 = 0x0020
SVC_F_SCHED_MASK = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3
HASH_SCHEDULERS = ("sh", "mh")

# destination forwarding methods (IP_VS_CONN_F_*)
FWD_MASQ = 0
FWD_LOCALNODE = 1
FWD_TUNNEL = 2
FWD_DROUTE = 3
FORWARDING = {"nat": FWD_MASQ, "local": FWD_LOCALNODE, "tun": FWD_TUNNEL, "dr": FWD_DROUTE}
FORWARDING_NAMES = {v: k for k, v in FORWARDING.items()}

TUNNEL_TYPES = {"ipip": 0, "gue": 1, "gre": 2}
TUNNEL_TYPE_NAMES = {v: k for k, v in TUNNEL_TYPES.items()}
TUNNEL_CHECKSUMS = {"nocsum": 0, "csum": 1, "remcsum": 2}
TUNNEL_CHECKSUM_NAMES = {v: k for k, v in TUNNEL_CHECKSUMS.items()}

DEFAULT_NETMASK = {AF_INET: 0xFFFFFFFF, AF_INET6: 128}
DEFAULT_TIMEOUTS = {"tcp": 900, "tcp_fin": 120, "udp": 300}


def pton(address: str) -> tuple[int, bytes]:
    """(family, packed) of an address; OSError if it is none.

    inet_pton/inet_ntop (C, and what ipvsadm prints with) rather than the ipaddress
    module: a table of 11,000 entries parses every address, and this is ten times faster.
    """
    family = AF_INET6 if ":" in address else AF_INET
    return family, socket.inet_pton(family, address)


_PARSED: dict[str, tuple[int, bytes, str]] = {}


def parse_address(address: str) -> tuple[int, bytes, str]:
    """(family, packed, canonical text), remembered: a table repeats its addresses."""
    known = _PARSED.get(address)
    if known is None:
        if len(_PARSED) > 65536:
            _PARSED.clear()
        family, packed = pton(address)
        known = _PARSED[address] = (family, packed, socket.inet_ntop(family, packed))
    return known


def packed16(address: str | None) -> bytes:
    """Address as the kernel's union nf_inet_addr: 16 bytes, IPv4 in the first four."""
    if not address:
        return b"\0" * 16
    return pton(address)[1].ljust(16, b"\0")


def unpack_address(family: int, data: bytes) -> str:
    return socket.inet_ntop(family, bytes(data[: 16 if family == AF_INET6 else 4]))


@dataclass
class Stats:
    conns: int = 0
    inpkts: int = 0
    outpkts: int = 0
    inbytes: int = 0
    outbytes: int = 0
    cps: int = 0
    inpps: int = 0
    outpps: int = 0
    inbps: int = 0
    outbps: int = 0


@dataclass
class Destination:
    address: str
    port: int = 0
    weight: int = 1
    forwarding: str = "dr"
    upper_threshold: int = 0
    lower_threshold: int = 0
    tunnel_type: str = "ipip"
    tunnel_port: int = 0
    tunnel_checksum: str = "nocsum"
    # read-only, filled from the kernel
    active_conns: int = 0
    inactive_conns: int = 0
    persistent_conns: int = 0
    stats: Stats | None = None

    def __post_init__(self) -> None:
        # parsed once: keys are compared often (attributes outside the dataclass fields)
        self._family, self._packed, self.address = parse_address(self.address)

    @property
    def family(self) -> int:
        return self._family

    @property
    def packed16(self) -> bytes:
        return self._packed.ljust(16, b"\0")

    @property
    def key(self) -> tuple:
        return (self._family, self._packed, self.port)

    @property
    def connections(self) -> int:
        return self.active_conns + self.inactive_conns + self.persistent_conns

    def settings(self) -> tuple:
        """What an in-place edit (IPVS_CMD_SET_DEST) can change."""
        tunnel = ()
        if self.forwarding == "tun":
            tunnel = (
                self.tunnel_type,
                self.tunnel_port if self.tunnel_type == "gue" else 0,
                self.tunnel_checksum if self.tunnel_type != "ipip" else "nocsum",
            )
        return (self.weight, self.forwarding, self.upper_threshold, self.lower_threshold, tunnel)

    def endpoint(self) -> str:
        return endpoint(self.address, self.port)

    def to_dict(self, with_state: bool = True) -> dict:
        out = {
            "address": self.address,
            "port": self.port,
            "weight": self.weight,
            "forwarding": self.forwarding,
            "upper_threshold": self.upper_threshold,
            "lower_threshold": self.lower_threshold,
        }
        if self.forwarding == "tun":
            out.update(
                tunnel_type=self.tunnel_type,
                tunnel_port=self.tunnel_port,
                tunnel_checksum=self.tunnel_checksum,
            )
        if with_state:
            out.update(
                active_conns=self.active_conns,
                inactive_conns=self.inactive_conns,
                persistent_conns=self.persistent_conns,
            )
            if self.stats is not None:
                out["stats"] = self.stats.__dict__.copy()
        return out


@dataclass
class Service:
    family: int = AF_INET
    protocol: str | None = "tcp"
    address: str | None = None
    port: int = 0
    fwmark: int = 0
    scheduler: str = "wlc"
    flags: int = 0
    timeout: int = 0
    netmask: int | None = None
    pe_name: str = ""
    destinations: list[Destination] = field(default_factory=list)
    stats: Stats | None = None

    def __post_init__(self) -> None:
        self._packed = b""
        if self.fwmark:
            self.protocol, self.address, self.port = None, None, 0
        elif self.address is not None:
            self.family, self._packed, self.address = parse_address(self.address)
        self.flags &= ~SVC_F_HASHED
        if self.netmask is None:
            self.netmask = DEFAULT_NETMASK[self.family]

    @property
    def packed16(self) -> bytes:
        return self._packed.ljust(16, b"\0")

    @property
    def key(self) -> tuple:
        """Identity as the kernel sees it, ordered like ipvsadm lists services."""
        if self.fwmark:
            return (self.fwmark, self.family, 0, b"", 0)
        return (0, self.family, PROTOCOLS[self.protocol], self._packed, self.port)

    @property
    def persistent(self) -> bool:
        return bool(self.flags & SVC_F_PERSISTENT)

    def settings(self) -> tuple:
        """What an in-place edit (IPVS_CMD_SET_SERVICE) can change.

        Timeout and netmask only mean something for a persistent service.
        """
        persistence = (self.timeout, self.netmask) if self.persistent else ()
        return (self.scheduler, self.flags, persistence, self.pe_name)

    def name(self) -> str:
        """Short human name: 'tcp 192.0.2.10:80', 'fwmark 5 ipv6'."""
        if self.fwmark:
            suffix = " ipv6" if self.family == AF_INET6 else ""
            return f"fwmark {self.fwmark}{suffix}"
        return f"{self.protocol} {endpoint(self.address, self.port)}"

    def sorted_destinations(self) -> list[Destination]:
        return sorted(self.destinations, key=lambda d: d.key)

    def to_dict(self, with_state: bool = True) -> dict:
        out: dict = {"family": FAMILY_NAMES[self.family]}
        if self.fwmark:
            out["fwmark"] = self.fwmark
        else:
            out.update(protocol=self.protocol, address=self.address, port=self.port)
        out.update(
            scheduler=self.scheduler,
            persistence_timeout=self.timeout if self.persistent else None,
            persistence_netmask=netmask_text(self.family, self.netmask)
            if self.persistent
            else None,
            one_packet=bool(self.flags & SVC_F_ONEPACKET),
            hash_fallback=bool(self.flags & SVC_F_SCHED1),
            hash_port=bool(self.flags & SVC_F_SCHED2),
        )
        if self.pe_name:
            out["persistence_engine"] = self.pe_name
        out["destinations"] = [d.to_dict(with_state) for d in self.sorted_destinations()]
        if with_state and self.stats is not None:
            out["stats"] = self.stats.__dict__.copy()
        return out


@dataclass
class SyncDaemon:
    role: str  # master or backup
    interface: str
    syncid: int = 0
    sync_maxlen: int | None = None
    mcast_group: str | None = None
    mcast_port: int | None = None
    mcast_ttl: int | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def render(self) -> str:
        """Like `ipvsadm --list --daemon`."""
        text = f"{self.role} sync daemon (mcast={self.interface}, syncid={self.syncid}"
        if self.sync_maxlen:
            text += f", maxlen={self.sync_maxlen}"
        if self.mcast_group:
            text += f", group={self.mcast_group}"
        if self.mcast_port:
            text += f", port={self.mcast_port}"
        if self.mcast_ttl:
            text += f", ttl={self.mcast_ttl}"
        return text + ")"


@dataclass
class Timeouts:
    tcp: int = DEFAULT_TIMEOUTS["tcp"]
    tcp_fin: int = DEFAULT_TIMEOUTS["tcp_fin"]
    udp: int = DEFAULT_TIMEOUTS["udp"]

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def render(self) -> str:
        """Like `ipvsadm --list --timeout`."""
        return f"Timeout (tcp tcpfin udp): {self.tcp} {self.tcp_fin} {self.udp}"


# ---------------------------------------------------------------- ipvsadm-save text


def endpoint(address: str | None, port: int) -> str:
    if address and ":" in address:
        return f"[{address}]:{port}"
    return f"{address}:{port}"


def netmask_text(family: int, netmask: int) -> str:
    if family == AF_INET6:
        return str(netmask)
    return socket.inet_ntop(AF_INET, netmask.to_bytes(4, "big"))


_SAVE_PROTO = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}


def service_spec(svc: Service) -> str:
    if svc.fwmark:
        return f"-f {svc.fwmark} -6" if svc.family == AF_INET6 else f"-f {svc.fwmark}"
    return f"{_SAVE_PROTO[svc.protocol]} {endpoint(svc.address, svc.port)}"


def sched_flags_text(svc: Service) -> str:
    names = []
    if svc.scheduler in HASH_SCHEDULERS:
        if svc.flags & SVC_F_SCHED1:
            names.append(f"{svc.scheduler}-fallback")
        if svc.flags & SVC_F_SCHED2:
            names.append(f"{svc.scheduler}-port")
    else:
        names += [
            f"flag-{i + 1}"
            for i, bit in enumerate((SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3))
            if svc.flags & bit
        ]
    return ",".join(names)


def render_service_line(svc: Service) -> str:
    line = f"-A {service_spec(svc)} -s {svc.scheduler}"
    if svc.persistent:
        line += f" -p {svc.timeout}"
        if svc.netmask != DEFAULT_NETMASK[svc.family]:
            line += f" -M {netmask_text(svc.family, svc.netmask)}"
    if svc.pe_name:
        line += f" --pe {svc.pe_name}"
    if svc.flags & SVC_F_ONEPACKET:
        line += " -o"
    if svc.flags & SVC_F_SCHED_MASK:
        line += f" -b {sched_flags_text(svc)}"
    return line


_SAVE_FWD = {"nat": "-m", "tun": "-i", "dr": "-g", "local": "-g"}


def render_destination_line(svc: Service, dest: Destination, thresholds: bool = True) -> str:
    line = (
        f"-a {service_spec(svc)} -r {dest.endpoint()} {_SAVE_FWD[dest.forwarding]} -w {dest.weight}"
    )
    if dest.forwarding == "tun":
        line += f" --tun-type {dest.tunnel_type}"
        if dest.tunnel_type == "gue":
            line += f" --tun-port {dest.tunnel_port}"
        if dest.tunnel_type != "ipip":
            line += f" --tun-{dest.tunnel_checksum}"
    # ipvsadm-save leaves thresholds out; the diff shows them so that their edits show
    if thresholds and dest.upper_threshold:
        line += f" -x {dest.upper_threshold}"
    if thresholds and dest.lower_threshold:
        line += f" -y {dest.lower_threshold}"
    return line


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _cmp_address(pa: bytes, pb: bytes) -> int:
    """libipvs compares addresses as ntohl(a) - ntohl(b) in an int, per 32-bit word."""
    for i in range(0, min(len(pa), len(pb)), 4):
        r = _int32(int.from_bytes(pa[i : i + 4], "big") - int.from_bytes(pb[i : i + 4], "big"))
        if r:
            return r
    return 0


def _cmp_services(s1: Service, s2: Service) -> int:
    # ipvs_cmp_services(): fwmark (unsigned, wrapping), af, protocol, address, port
    r = _int32(s1.fwmark - s2.fwmark) or s1.family - s2.family
    r = r or PROTOCOLS.get(s1.protocol, 0) - PROTOCOLS.get(s2.protocol, 0)
    return r or _cmp_address(s1._packed, s2._packed) or s1.port - s2.port


def _cmp_dests(d1: Destination, d2: Destination) -> int:
    return _cmp_address(d1._packed, d2._packed) or d1.port - d2.port


def ipvsadm_order(services: list[Service]) -> list[Service]:
    """Services in the order `ipvsadm -S` prints them.

    Its comparisons wrap around (10.0.0.1 sorts after 192.0.2.1), so follow them to keep
    a diff line for line with ipvsadm's output.
    """
    return sorted(services, key=functools.cmp_to_key(_cmp_services))


def render(services: list[Service], thresholds: bool = True) -> str:
    """The table in `ipvsadm -Sn` form (plus -x/-y when thresholds are set)."""
    lines = []
    for svc in ipvsadm_order(services):
        lines.append(render_service_line(svc))
        dests = sorted(svc.destinations, key=functools.cmp_to_key(_cmp_dests))
        lines += [render_destination_line(svc, d, thresholds) for d in dests]
    return "".join(line + "\n" for line in lines)
