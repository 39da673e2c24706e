"""Read a lab's guests from the project's Ansible inventory (the single source of truth).

Each host in ``inventory/<profile>/`` lists its interfaces (``lvs_interfaces``: name,
segment, address/prefix); ``lvs_segments`` gives each segment's network and gateway.
The lab boots one guest per host with those addresses. Two lab-only host variables
size the guest: ``lvslab_memory`` (default 256M) and ``lvslab_disks`` (extra disks,
a list of sizes such as ``[2G]``, seen in the guest as /dev/ubdb, /dev/ubdc, ...).

A profile whose clients browse the web through the cluster (a cache cluster) sets the
lab-only group variable ``lvslab_origin``: the lab then adds an origin host (lvslab.origin)
holding ``addresses`` addresses of ``network`` (inside the benchmarking range
198.18.0.0/15), from .10 on, behind the lab router, and routes the clients' TCP port 80
towards 198.18.0.0/15 through ``web_via`` (the cluster's VIP) instead of directly.
"""

from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import LabError
from .paths import repo_root

MAX_NICS = 4
SIZE_RE = re.compile(r"^[1-9][0-9]*[MG]$")
# RFC 2544's benchmarking range: never routed beyond the lab's namespaces
ORIGIN_RANGE = ipaddress.ip_network("198.18.0.0/15")
ORIGIN_FIRST_HOST = 10


@dataclass
class Nic:
    name: str  # ethN inside the guest
    segment: str
    address: str  # a.b.c.d/prefix
    gateway: str | None = None

    @property
    def index(self) -> int:
        return int(self.name[3:])

    @property
    def ip(self) -> str:
        return self.address.split("/")[0]

    def kernel_arg(self) -> str:
        """systemd-network-generator's form: ip=ADDR::GW:MASK::IFACE:off."""
        iface = ipaddress.ip_interface(self.address)
        return f"ip={iface.ip}::{self.gateway or ''}:{iface.netmask}::{self.name}:off"


@dataclass
class Guest:
    name: str
    index: int  # 1-based, stable order of the inventory
    management: str  # the address Ansible and ssh use (ansible_host)
    nics: list[Nic]
    memory: str = "256M"
    disks: list[str] = field(default_factory=list)


@dataclass
class Origin:
    network: str  # a.b.c.d/prefix inside ORIGIN_RANGE
    addresses: int  # how many the origin host holds, from .10 on
    web_via: str  # the next hop of the clients' web traffic to ORIGIN_RANGE

    @property
    def router(self) -> str:
        """The lab router's address on the origin side."""
        return str(ipaddress.ip_network(self.network).network_address + 1)

    @property
    def prefixlen(self) -> int:
        return ipaddress.ip_network(self.network).prefixlen

    def hosts(self) -> list[str]:
        first = ipaddress.ip_network(self.network).network_address + ORIGIN_FIRST_HOST
        return [str(first + i) for i in range(self.addresses)]


@dataclass
class Topology:
    profile: str
    segments: dict[str, dict]
    guests: list[Guest]
    origin: Origin | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Topology:
        guests = [Guest(**{**g, "nics": [Nic(**n) for n in g["nics"]]}) for g in data["guests"]]
        origin = Origin(**data["origin"]) if data.get("origin") else None
        return cls(data["profile"], data["segments"], guests, origin)


def profiles() -> list[str]:
    inv = repo_root() / "inventory"
    return sorted(p.name for p in inv.iterdir() if (p / "hosts.yml").exists())


def inventory_path(profile: str) -> Path:
    path = repo_root() / "inventory" / profile
    if not (path / "hosts.yml").exists():
        known = ", ".join(profiles()) or "none"
        raise LabError(f"unknown topology profile {profile!r} (known: {known})")
    return path


def load(profile: str) -> Topology:
    """Resolve the inventory with Ansible itself, so group_vars apply as in a play."""
    path = inventory_path(profile)
    cmd = [str(Path(sys.executable).with_name("ansible-inventory")), "-i", str(path), "--list"]
    try:
        # stdin closed: Ansible refuses a non-blocking stdin inherited from a caller
        out = subprocess.run(
            cmd, check=True, capture_output=True, text=True, stdin=subprocess.DEVNULL
        ).stdout
    except FileNotFoundError as exc:
        raise LabError("ansible-inventory not found beside lvslab: run `make deps`") from exc
    except subprocess.CalledProcessError as exc:
        raise LabError(f"cannot read inventory {path}: {exc.stderr.strip()}") from exc
    return from_inventory(profile, json.loads(out))


def from_inventory(profile: str, inv: dict) -> Topology:
    hostvars = inv.get("_meta", {}).get("hostvars", {})
    if not hostvars:
        raise LabError(f"inventory {profile!r} has no hosts")
    segments: dict[str, dict] = {}
    guests = []
    origin_spec = None
    for index, name in enumerate(_ordered_hosts(inv), start=1):
        hv = hostvars[name]
        segments.update(hv.get("lvs_segments") or {})
        guests.append(_guest(name, index, hv, hv.get("lvs_segments") or {}))
        origin_spec = origin_spec or hv.get("lvslab_origin")
    _check(guests, segments)
    origin = _origin(origin_spec, segments) if origin_spec else None
    return Topology(profile=profile, segments=segments, guests=guests, origin=origin)


def _origin(spec, segments: dict) -> Origin:
    if not isinstance(spec, dict) or set(spec) != {"network", "addresses", "web_via"}:
        raise LabError("lvslab_origin needs exactly network, addresses and web_via")
    try:
        network = ipaddress.ip_network(str(spec["network"]))
        via = ipaddress.ip_address(str(spec["web_via"]))
        count = int(spec["addresses"])
    except ValueError as exc:
        raise LabError(f"lvslab_origin: {exc}") from None
    if network.version != 4 or not network.subnet_of(ORIGIN_RANGE):
        raise LabError(f"lvslab_origin: network {network} must lie inside {ORIGIN_RANGE}")
    if not 1 <= count <= network.num_addresses - ORIGIN_FIRST_HOST - 1:
        raise LabError(f"lvslab_origin: {count} addresses do not fit in {network} from .10 on")
    routed = [
        s["network"]
        for s in segments.values()
        if s.get("gateway") and via in ipaddress.ip_network(s["network"])
    ]
    if not routed:
        raise LabError(f"lvslab_origin: web_via {via} is in no segment the lab router serves")
    return Origin(str(network), count, str(via))


def _ordered_hosts(inv: dict) -> list[str]:
    """Hosts in inventory order (groups depth first), each once."""
    seen: list[str] = []

    def walk(group: str) -> None:
        node = inv.get(group, {})
        for host in node.get("hosts", []):
            if host not in seen:
                seen.append(host)
        for child in node.get("children", []):
            walk(child)

    walk("all")
    return seen


def _guest(name: str, index: int, hv: dict, segments: dict) -> Guest:
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,14}", name):
        raise LabError(f"host name {name!r}: use 1-15 lower-case letters, digits or '-'")
    raw = hv.get("lvs_interfaces")
    if not raw:
        raise LabError(f"host {name}: lvs_interfaces is missing (the lab needs its addresses)")
    nics = []
    for item in raw:
        nic_name, segment, address = item.get("name"), item.get("segment"), item.get("address")
        if not (isinstance(nic_name, str) and re.fullmatch(r"eth[0-9]", nic_name)):
            raise LabError(
                f"host {name}: interface name {nic_name!r} must be eth0..eth{MAX_NICS - 1}"
            )
        if segment not in segments:
            raise LabError(f"host {name} {nic_name}: segment {segment!r} is not in lvs_segments")
        try:
            iface = ipaddress.ip_interface(address)
        except ValueError as exc:
            raise LabError(f"host {name} {nic_name}: bad address {address!r}") from exc
        network = ipaddress.ip_network(segments[segment]["network"])
        if iface.ip not in network or iface.network != network:
            raise LabError(
                f"host {name} {nic_name}: {address} is not in segment {segment} ({network})"
            )
        nics.append(Nic(nic_name, segment, str(iface), segments[segment].get("gateway")))
    nics.sort(key=lambda n: n.index)
    if [n.index for n in nics] != list(range(len(nics))) or len(nics) > MAX_NICS:
        raise LabError(f"host {name}: interfaces must be eth0, eth1, ... without gaps")
    if sum(1 for n in nics if n.gateway) > 1:
        # one default route; the other segments are directly connected
        for nic in nics[1:]:
            nic.gateway = None
    management = hv.get("ansible_host") or nics[0].ip
    if management not in [n.ip for n in nics]:
        raise LabError(f"host {name}: ansible_host {management} is none of its addresses")
    memory = str(hv.get("lvslab_memory", "256M"))
    disks = [str(d) for d in hv.get("lvslab_disks") or []]
    for size in [memory, *disks]:
        if not SIZE_RE.match(size):
            raise LabError(f"host {name}: size {size!r} must look like 256M or 2G")
    return Guest(name, index, management, nics, memory, disks)


def _check(guests: list[Guest], segments: dict) -> None:
    seen: dict[str, str] = {}
    for seg in segments.values():
        if seg.get("gateway"):
            seen[seg["gateway"]] = "the segment gateway (the lab router)"
    for guest in guests:
        for nic in guest.nics:
            if nic.ip in seen:
                raise LabError(f"address {nic.ip} of {guest.name} is already {seen[nic.ip]}")
            seen[nic.ip] = guest.name
