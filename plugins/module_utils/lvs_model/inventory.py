# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The inventory as the model sees it: segments, each host's interfaces, the groups.

Parsed once per validation into :class:`Inventory`; every check reads it and reports
into the same :class:`Problems`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    DIRECTORS_GROUP,
    Nic,
    Segment,
)


class Problems:
    """Messages in the order found, each once."""

    def __init__(self):
        self.messages: list[str] = []

    def err(self, message: str) -> None:
        if message not in self.messages:
            self.messages.append(message)

    def unknown_keys(self, what: str, item: Mapping, allowed: set[str]) -> None:
        for key in sorted(set(item) - allowed):
            self.err(f"{what}: unknown key {key!r} (known: {', '.join(sorted(allowed))})")

    def __bool__(self) -> bool:
        return bool(self.messages)


def ip(value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


class Inventory:
    """Segments, host interfaces and groups; problems recorded into ``problems``."""

    def __init__(self, raw: Mapping, hosts: Mapping, groups: Mapping, problems: Problems):
        self.raw = raw
        self.problems = problems
        # set by the checks as they go: the director mode, and the names and addresses
        # of lvs_vips entries, sound or not (so that no error cascades)
        self.mode = "keepalived"
        self.declared_vips: set[str] = set()
        self.groups = {g: list(members or []) for g, members in (groups or {}).items()}
        self.segments: dict[str, Segment] = {}
        self._parse_segments(raw.get("segments"))
        # everything else hangs on the segments: report only them when they are wrong
        self.segments_ok = not problems
        self.hosts: dict[str, list[Nic]] = {}
        self._parse_hosts(hosts or {})

    def err(self, message: str) -> None:
        self.problems.err(message)

    def unknown_keys(self, what: str, item: Mapping, allowed: set[str]) -> None:
        self.problems.unknown_keys(what, item, allowed)

    def _parse_segments(self, segments) -> None:
        if segments is None:
            self.err("lvs_segments is missing: name the cluster's segments and their networks")
            return
        if not isinstance(segments, Mapping):
            self.err("lvs_segments must be a mapping of segment name to {network, gateway}")
            return
        for name, seg in segments.items():
            if not isinstance(seg, Mapping) or "network" not in seg:
                self.err(f"segment {name}: needs a network")
                continue
            try:
                network = ipaddress.ip_network(str(seg["network"]), strict=True)
            except ValueError:
                self.err(f"segment {name}: network {seg['network']!r} is not a valid network")
                continue
            gateway = None
            if seg.get("gateway") is not None:
                gateway = ip(seg["gateway"])
                if gateway is None or gateway not in network:
                    self.err(f"segment {name}: gateway {seg['gateway']} is not in {network}")
                    gateway = None
            self.segments[name] = Segment(name, network, gateway)

    def _parse_hosts(self, hosts: Mapping) -> None:
        for name, hv in hosts.items():
            nics = []
            for item in (hv or {}).get("lvs_interfaces") or []:
                nic, segment, address = item.get("name"), item.get("segment"), item.get("address")
                if segment not in self.segments:
                    if self.segments_ok:
                        self.err(f"host {name} {nic}: unknown segment {segment!r}")
                    continue
                try:
                    iface = ipaddress.ip_interface(str(address))
                except ValueError:
                    self.err(f"host {name} {nic}: bad address {address!r}")
                    continue
                network = self.segments[segment].network
                if iface.ip not in network:
                    self.err(
                        f"host {name} {nic}: {address} is not in segment {segment} ({network})"
                    )
                    continue
                nics.append(Nic(nic, segment, iface))
            self.hosts[name] = nics

    # lookups -----------------------------------------------------------------------
    def group(self, name: str) -> list[str]:
        return self.groups.get(name, [])

    def directors(self) -> list[str]:
        vrrp = self.raw.get("vrrp")
        if isinstance(vrrp, Mapping) and vrrp.get("directors"):
            return list(vrrp["directors"])
        return self.group(DIRECTORS_GROUP)

    def nic_on(self, host: str, segment: str) -> Nic | None:
        return next((nic for nic in self.hosts.get(host, []) if nic.segment == segment), None)

    def segment_of(self, address) -> str | None:
        for name, seg in self.segments.items():
            if address in seg.network:
                return name
        return None

    def director_segments(self) -> set[str]:
        return {nic.segment for d in self.directors() for nic in self.hosts.get(d, [])}

    def expand(self, what: str, value) -> list[str]:
        """Host and group names -> host names, in order; unknown names reported."""
        names = [value] if isinstance(value, str) else value
        hosts: list[str] = []
        if not isinstance(names, (list, tuple)) or not names:
            self.err(f"{what}: must name hosts or groups of the inventory")
            return hosts
        for name in names:
            if not isinstance(name, str):
                self.err(f"{what}: {name!r} is not a host or group name")
            elif name in self.groups and name != "all":
                hosts.extend(h for h in self.group(name) if h not in hosts)
            elif name in self.hosts:
                if name not in hosts:
                    hosts.append(name)
            else:
                self.err(f"{what}: unknown host or group {name!r}")
        return hosts
