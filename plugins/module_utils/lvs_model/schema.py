# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed topology model: one frozen dataclass per kind of entry, defaults included.

Every default of the model lives here, once, as a dataclass field default; the checks
read them through :func:`defaults`, the parser applies them, the projections never
invent one. The keys a model entry may carry are the fields of its class
(:func:`keys`), so an unknown key is found without a second list.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import SCHEDULERS

__all__ = ["SCHEDULERS"]

PROTOCOLS = ("tcp", "udp", "sctp")
METHODS = ("dr", "tun", "nat")
# RTSP_CHECK: an RTSP OPTIONS request, run by keepalived as a MISC_CHECK (it has none)
CHECK_TYPES = ("HTTP_GET", "SSL_GET", "TCP_CHECK", "MISC_CHECK", "RTSP_CHECK")
MODES = ("keepalived", "static")
VRRP_VERSIONS = (2, 3)
AUTH_TYPES = ("PASS", "AH")
TIMEOUT_KEYS = ("tcp", "tcp_fin", "udp")
DIRECTORS_GROUP = "directors"
REALSERVERS_GROUP = "realservers"
STORAGE_GROUP = "storage"
MAX_WEIGHT = 65535
MAX_FWMARK = 0xFFFFFFFF
BACKENDS = ("nfs", "glusterfs")
NFS_VERSIONS = ("4", "4.0", "4.1", "4.2")
BRICK_FILESYSTEMS = ("xfs", "ext4")
# priorities given when the model names a master only
MASTER_PRIORITY = 150
BACKUP_PRIORITY = 100

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# gluster volume names: letters, digits, '-' and '_'
SHARE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# an export option or a mount option: no blanks, commas or parentheses
OPTION_RE = re.compile(r"^[A-Za-z0-9_.=:/-]+$")
DEVICE_RE = re.compile(r"^/dev/[A-Za-z0-9/_.-]+$")

# net.ipv4.vs.* sysctls the model may set, with their ranges (inclusive)
SYSCTLS = {
    "drop_entry": (0, 3),
    "drop_packet": (0, 3),
    "secure_tcp": (0, 3),
    "amemthresh": (0, 2**31 - 1),
    "am_droprate": (0, 2**31 - 1),
    "expire_nodest_conn": (0, 1),
    "expire_quiescent_template": (0, 1),
    "conn_reuse_mode": (0, 3),
    "nat_icmp_send": (0, 1),
    "snat_reroute": (0, 1),
    "schedule_icmp": (0, 1),
    "ignore_tunneled": (0, 1),
    "sloppy_tcp": (0, 1),
    "sloppy_sctp": (0, 1),
    "sync_version": (0, 1),
    "sync_refresh_period": (0, 2**31 - 1),
    "sync_retries": (0, 3),
    "sync_persist_mode": (0, 1),
    # two integers: threshold and period, 0 <= threshold < period, or period 0
    "sync_threshold": None,
}

# the model's top-level variables (lvs_<name>) and the class each one parses into
TOP_LEVEL = (
    "cluster_name",
    "segments",
    "mode",
    "vrrp",
    "vips",
    "services",
    "sync",
    "timeouts",
    "sysctls",
    "storage",
    "applications",
)


def keys(cls) -> set[str]:
    """The keys a model entry of this class may carry."""
    return {f.name for f in dataclasses.fields(cls) if not f.metadata.get("derived")}


def defaults(cls) -> dict[str, Any]:
    """The default of every optional key of a class."""
    out = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


# a field the parser fills from the inventory, never written in the model
DERIVED = {"derived": True}


# -- inventory -------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    name: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    gateway: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None


@dataclass(frozen=True)
class Nic:
    name: str
    segment: str
    interface: ipaddress.IPv4Interface | ipaddress.IPv6Interface

    @property
    def ip(self) -> str:
        return str(self.interface.ip)


# -- directors and VRRP ------------------------------------------------------------------


@dataclass(frozen=True)
class VrrpInstance:
    name: str
    segment: str
    virtual_router_id: int


@dataclass(frozen=True)
class VrrpAuth:
    type: str
    # 'pass' is a keyword: the model's key is mapped onto this field
    password: str


@dataclass(frozen=True)
class Vrrp:
    directors: tuple[str, ...] = ()
    version: int = 3
    instances: tuple[VrrpInstance, ...] = ()
    master: str | None = None
    priorities: tuple[tuple[str, int], ...] | None = None
    advert_int: float = 1
    preempt: bool = True
    preempt_delay: float = 0
    unicast: bool = False
    unicast_peers: tuple[str, ...] | None = None
    auth: VrrpAuth | None = None


VRRP_INSTANCE_KEYS = keys(VrrpInstance)


@dataclass(frozen=True)
class Vip:
    name: str
    address: str
    segment: str | None = None
    nat_gateway: bool = False
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = field(default=None, metadata=DERIVED)
    prefix: int = field(default=0, metadata=DERIVED)


# -- virtual services --------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    type: str
    port: int | None = None
    connect_timeout: float = 3
    delay_loop: float = 6
    retry: int = 1
    delay_before_retry: float = 1
    path: str | None = None
    status_code: int | None = None
    digest: str | None = None
    virtualhost: str | None = None
    misc_path: str | None = None
    misc_timeout: float | None = None
    misc_dynamic: bool = False


# defaults that depend on the checker type
HTTP_CHECK_DEFAULTS = {"path": "/", "status_code": 200}
MISC_CHECK_DEFAULTS = {"misc_timeout": 5}


@dataclass(frozen=True)
class Persistence:
    timeout: int = 300
    netmask: str | int | None = None


@dataclass(frozen=True)
class SorryServer:
    address: str
    port: int | None = None


@dataclass(frozen=True)
class RealServer:
    host: str
    port: int | None = None
    weight: int = 1
    segment: str | None = None
    # the interface the director reaches it on (by forwarding method and segment)
    nic: Nic | None = field(default=None, metadata=DERIVED)


@dataclass(frozen=True)
class FwmarkMatch:
    protocol: str
    port: int | str
    # networks the clients address (not the VIP): a transparent service, whose traffic
    # the directors would forward; they mark it on the VIP's segment and deliver it
    # locally, so IPVS schedules it (a cache cluster in the clients' path to the web)
    destinations: tuple[str, ...] = ()


@dataclass(frozen=True)
class Service:
    name: str
    vip: str
    real_servers: tuple[RealServer, ...]
    protocol: str = "tcp"
    port: int | None = None
    fwmark: int | None = None
    fwmark_match: tuple[FwmarkMatch, ...] = ()
    scheduler: str = "wlc"
    method: str = "dr"
    persistence: Persistence | None = None
    check: Check | None = None
    quorum: int = 1
    sorry_server: SorryServer | None = None
    inhibit_on_failure: bool = True


@dataclass(frozen=True)
class Sync:
    segment: str | None = None
    enabled: bool = True
    syncid: int = 0
    maxlen: int | None = None


# -- shared storage ----------------------------------------------------------------------


@dataclass(frozen=True)
class NfsSettings:
    version: str = "4.2"


@dataclass(frozen=True)
class GlusterSettings:
    replica: int = 3
    arbiter: bool = False
    brick_device: str | None = None
    brick_filesystem: str = "xfs"
    brick_mount: str = "/srv/gluster"
    force: bool = False


@dataclass(frozen=True)
class Share:
    name: str
    mount: str
    clients: tuple[str, ...]
    export: str | None = None
    export_options: tuple[str, ...] = ("rw", "sync", "no_subtree_check", "root_squash")
    export_owner: str | None = None
    export_group: str | None = None
    mount_options: tuple[str, ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    # the clients as host names (groups expanded)
    client_hosts: tuple[str, ...] = field(default=(), metadata=DERIVED)


@dataclass(frozen=True)
class Storage:
    backend: str
    segment: str
    shares: tuple[Share, ...]
    nfs: NfsSettings = NfsSettings()
    glusterfs: GlusterSettings = GlusterSettings()


# -- applications ------------------------------------------------------------------------


@dataclass(frozen=True)
class Listen:
    """What reaches an application's host: a protocol and a port or range 'FIRST:LAST'."""

    protocol: str
    port: int | str


@dataclass(frozen=True)
class Application:
    name: str
    hosts: tuple[str, ...]
    # the collection's role that runs it (default: the entry's name); none when the
    # application is managed outside the collection
    role: str | None = None
    managed: bool = True
    # purpose -> share name (the web application's document_root, ...)
    shares: tuple[tuple[str, str], ...] = ()
    # port name -> port, overriding the application's own ports
    ports: tuple[tuple[str, int], ...] = ()
    # what an application managed outside the collection receives
    listen: tuple[Listen, ...] = ()
    # further role settings the application takes (see lvs_model.applications)
    settings: tuple[tuple[str, Any], ...] = ()
    host_names: tuple[str, ...] = field(default=(), metadata=DERIVED)


# -- the whole model ---------------------------------------------------------------------


@dataclass(frozen=True)
class Model:
    segments: tuple[Segment, ...]
    cluster_name: str = "lvs"
    mode: str = "keepalived"
    vrrp: Vrrp | None = None
    vips: tuple[Vip, ...] = ()
    services: tuple[Service, ...] = ()
    sync: Sync | None = None
    timeouts: tuple[tuple[str, int], ...] = ()
    sysctls: tuple[tuple[str, Any], ...] = ()
    storage: Storage | None = None
    applications: tuple[Application, ...] = ()
    # the inventory, as the model sees it
    hosts: tuple[tuple[str, tuple[Nic, ...]], ...] = field(default=(), metadata=DERIVED)
    groups: tuple[tuple[str, tuple[str, ...]], ...] = field(default=(), metadata=DERIVED)

    # lookups for the projections ----------------------------------------------------
    @functools.cached_property
    def host_nics(self) -> dict[str, tuple[Nic, ...]]:
        return dict(self.hosts)

    @functools.cached_property
    def group_members(self) -> dict[str, tuple[str, ...]]:
        return dict(self.groups)

    def group(self, name: str) -> tuple[str, ...]:
        return self.group_members.get(name, ())

    def nic_on(self, host: str, segment: str | None) -> Nic | None:
        return next((n for n in self.host_nics.get(host, ()) if n.segment == segment), None)

    @functools.cached_property
    def segment(self) -> dict[str, Segment]:
        return {s.name: s for s in self.segments}

    @functools.cached_property
    def vip(self) -> dict[str, Vip]:
        return {v.name: v for v in self.vips}

    @property
    def directors(self) -> tuple[str, ...]:
        if self.vrrp is not None and self.vrrp.directors:
            return self.vrrp.directors
        return self.group(DIRECTORS_GROUP)

    @property
    def nat_gateway(self) -> Vip | None:
        return next((v for v in self.vips if v.nat_gateway), None)
