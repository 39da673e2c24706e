# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster topology model: validation, and plain per-role variables.

The model lives in ``inventory/<profile>/group_vars`` (see docs/topology.md) as a few
top-level variables; :func:`model_from_vars` gathers them without their ``lvs_`` prefix::

    topology, segments, mode, vrrp, vips, services, sync, timeouts, sysctls

The hosts come as ``{name: {"lvs_interfaces": [...], "ansible_host": ...}}`` (a subset of
hostvars) and the groups as ``{"directors": [...], "realservers": [...]}``.

:func:`validate` returns every problem it finds as a message naming the offending item;
an empty list means the model is sound. :func:`director_vars` and
:func:`realserver_vars` turn a *valid* model into the plain variables that the
``lvs_director`` and ``lvs_realserver`` roles take, so roles never read the model.

Pure standard library, no Ansible imports, Python 3.11 compatible.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils import lvs_storage

SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "mh", "fo", "ovf")
PROTOCOLS = ("tcp", "udp", "sctp")
METHODS = ("dr", "tun", "nat")
CHECK_TYPES = ("HTTP_GET", "SSL_GET", "TCP_CHECK", "MISC_CHECK")
MODES = ("keepalived", "static")
VRRP_VERSIONS = (2, 3)
AUTH_TYPES = ("PASS", "AH")
TIMEOUT_KEYS = ("tcp", "tcp_fin", "udp")
DIRECTORS_GROUP = "directors"
REALSERVERS_GROUP = "realservers"
MAX_WEIGHT = 65535
MAX_FWMARK = 0xFFFFFFFF

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
    "sync_threshold": None,  # two integers: threshold and period, 0 <= threshold < period
}

VRRP_DEFAULTS = {
    "version": 3,
    "advert_int": 1,
    "preempt": True,
    "preempt_delay": 0,
    "unicast": False,
}
CHECK_DEFAULTS = {"connect_timeout": 3, "delay_loop": 6, "retry": 1, "delay_before_retry": 1}

VIP_KEYS = {"name", "address", "segment", "nat_gateway"}
SERVICE_KEYS = {
    "name",
    "vip",
    "protocol",
    "port",
    "fwmark",
    "fwmark_match",
    "scheduler",
    "method",
    "persistence",
    "check",
    "quorum",
    "sorry_server",
    "inhibit_on_failure",
    "real_servers",
}
REAL_SERVER_KEYS = {"host", "port", "weight", "segment"}
CHECK_KEYS = {
    "type",
    "port",
    "connect_timeout",
    "delay_loop",
    "retry",
    "delay_before_retry",
    "path",
    "status_code",
    "digest",
    "virtualhost",
    "misc_path",
    "misc_timeout",
    "misc_dynamic",
}
VRRP_KEYS = {
    "directors",
    "version",
    "instances",
    "master",
    "priorities",
    "advert_int",
    "preempt",
    "preempt_delay",
    "unicast",
    "unicast_peers",
    "auth",
}
SYNC_KEYS = {"enabled", "segment", "syncid", "maxlen"}

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def model_from_vars(variables: Mapping) -> dict:
    """Collect the model from a host's variables (``lvs_vrrp`` -> ``vrrp``, ...)."""
    keys = (
        "topology",
        "segments",
        "mode",
        "vrrp",
        "vips",
        "services",
        "sync",
        "timeouts",
        "sysctls",
        "storage",
        "web",
    )
    return {
        k: plain(variables.get("lvs_" + k)) for k in keys if variables.get("lvs_" + k) is not None
    }


def plain(value):
    """Deep copy into builtin types (inventory values may be str/dict subclasses)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_num(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _port_ok(value) -> bool:
    return _is_int(value) and 1 <= value <= 65535


def _ip(value):
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


class _Context:
    """Segments, host addresses and groups, parsed once; problems recorded as found."""

    def __init__(self, model: Mapping, hosts: Mapping, groups: Mapping):
        self.model = model
        self.errors: list[str] = []
        self.mode = "keepalived"
        # names and addresses of lvs_vips entries, sound or not (no cascading errors)
        self.declared_vips: set[str] = set()
        self.groups = {g: list(members or []) for g, members in (groups or {}).items()}
        self.segments: dict[str, dict] = {}
        self._parse_segments(model.get("segments"))
        # everything else hangs on the segments: report only them when they are wrong
        self.segments_ok = not self.errors
        # host -> list of (interface, segment, ip_interface)
        self.hosts: dict[str, list] = {}
        self._parse_hosts(hosts or {})

    def err(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)

    def unknown_keys(self, what: str, item: Mapping, allowed: set[str]) -> None:
        for key in sorted(set(item) - allowed):
            self.err(f"{what}: unknown key {key!r} (known: {', '.join(sorted(allowed))})")

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
                gateway = _ip(seg["gateway"])
                if gateway is None or gateway not in network:
                    self.err(f"segment {name}: gateway {seg['gateway']} is not in {network}")
                    gateway = None
            self.segments[name] = {"network": network, "gateway": gateway}

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
                network = self.segments[segment]["network"]
                if iface.ip not in network:
                    self.err(
                        f"host {name} {nic}: {address} is not in segment {segment} ({network})"
                    )
                    continue
                nics.append((nic, segment, iface))
            self.hosts[name] = nics

    # lookups -----------------------------------------------------------------------
    def group(self, name: str) -> list[str]:
        return self.groups.get(name, [])

    def directors(self) -> list[str]:
        vrrp = self.model.get("vrrp")
        if isinstance(vrrp, Mapping) and vrrp.get("directors"):
            return list(vrrp["directors"])
        return self.group(DIRECTORS_GROUP)

    def nic_on(self, host: str, segment: str):
        for nic in self.hosts.get(host, []):
            if nic[1] == segment:
                return nic
        return None

    def segment_of(self, address) -> str | None:
        for name, seg in self.segments.items():
            if address in seg["network"]:
                return name
        return None

    def director_segments(self) -> set[str]:
        return {nic[1] for d in self.directors() for nic in self.hosts.get(d, [])}


# ---------------------------------------------------------------------------------
# validation


def validate(model: Mapping, hosts: Mapping, groups: Mapping) -> list[str]:
    """Every problem in the model, each a message naming the item; [] when sound."""
    ctx = _Context(model or {}, hosts, groups)
    if not ctx.segments_ok:
        return ctx.errors
    _check_mode(ctx)
    _check_groups(ctx)
    if ctx.mode == "keepalived":
        _check_vrrp(ctx)
    vips = _check_vips(ctx)
    _check_services(ctx, vips)
    _check_sync(ctx)
    _check_timeouts(ctx)
    _check_sysctls(ctx)
    lvs_storage.check(ctx)
    return ctx.errors


def _check_mode(ctx: _Context) -> None:
    topology = ctx.model.get("topology")
    if not isinstance(topology, str) or not NAME_RE.match(topology):
        ctx.err(f"lvs_topology {topology!r} must name the profile (web, media, cache, mail, ...)")
    mode = ctx.model.get("mode", "keepalived")
    if mode not in MODES:
        ctx.err(f"lvs_mode {mode!r} is unknown (known: {', '.join(MODES)})")
        mode = "keepalived"
    ctx.mode = mode


def _check_groups(ctx: _Context) -> None:
    directors = ctx.directors()
    for name in directors:
        if name not in ctx.hosts:
            ctx.err(f"director {name} is not in the inventory")
        elif name not in ctx.group(DIRECTORS_GROUP):
            ctx.err(f"director {name} is not in the '{DIRECTORS_GROUP}' group")
    for name in ctx.group(DIRECTORS_GROUP):
        if name in ctx.group(REALSERVERS_GROUP):
            ctx.err(f"host {name} is both a director and a real server")
    if ctx.mode == "keepalived" and len(directors) < 2:
        found = ", ".join(directors) or "none"
        ctx.err(
            f"missing peer director: keepalived (HA) mode needs two directors, found {found} "
            "(add a second director or set lvs_mode: static)"
        )
    if ctx.mode == "static" and not directors:
        ctx.err("no director: the inventory's 'directors' group is empty")


def _check_vrrp(ctx: _Context) -> None:
    raw = ctx.model.get("vrrp")
    if raw is None:
        if ctx.model.get("vips"):
            ctx.err("lvs_vrrp is missing: keepalived mode needs VRRP settings for its VIPs")
        return
    if not isinstance(raw, Mapping):
        ctx.err("lvs_vrrp must be a mapping")
        return
    ctx.unknown_keys("lvs_vrrp", raw, VRRP_KEYS)
    vrrp = {**VRRP_DEFAULTS, **raw}
    directors = ctx.directors()
    version = vrrp["version"]
    if version not in VRRP_VERSIONS:
        ctx.err(f"vrrp: version {version!r} must be 2 or 3")
    advert = vrrp["advert_int"]
    if not _is_num(advert) or advert <= 0:
        ctx.err(f"vrrp: advert_int {advert!r} must be a number of seconds above 0")
    elif version == 2 and (advert != int(advert)):
        ctx.err(f"vrrp: advert_int {advert} is sub-second, which needs VRRP version 3")
    if not isinstance(vrrp["preempt"], bool):
        ctx.err(f"vrrp: preempt {vrrp['preempt']!r} must be true or false")
    delay = vrrp["preempt_delay"]
    if not _is_num(delay) or not 0 <= delay <= 1000:
        ctx.err(f"vrrp: preempt_delay {delay!r} must be 0..1000 seconds")
    elif delay and vrrp["preempt"] is False:
        ctx.err(f"vrrp: preempt_delay {delay} has no effect with preempt: false")
    if vrrp.get("auth") is not None:
        auth = vrrp["auth"]
        if version != 2:
            ctx.err("vrrp: auth is only for VRRP version 2 (VRRPv3 has no authentication)")
        elif not isinstance(auth, Mapping) or auth.get("type") not in AUTH_TYPES:
            ctx.err(f"vrrp: auth needs type {' or '.join(AUTH_TYPES)} and a password")
        elif not isinstance(auth.get("pass"), str) or not 1 <= len(auth["pass"]) <= 8:
            ctx.err("vrrp: auth pass must be 1..8 characters")
    if not isinstance(vrrp["unicast"], bool):
        ctx.err(f"vrrp: unicast {vrrp['unicast']!r} must be true or false")
    peers = vrrp.get("unicast_peers")
    if peers is not None:
        if not vrrp["unicast"]:
            ctx.err("vrrp: unicast_peers is set but unicast is false")
        for peer in peers if isinstance(peers, list) else [peers]:
            if peer not in directors:
                ctx.err(f"vrrp: unicast peer {peer} is not a director")
    _check_priorities(ctx, vrrp, directors)
    _check_instances(ctx, vrrp.get("instances"), directors)


def _check_priorities(ctx: _Context, vrrp: Mapping, directors: list[str]) -> None:
    master = vrrp.get("master")
    priorities = vrrp.get("priorities")
    if master is not None and master not in directors:
        ctx.err(f"vrrp: master {master} is not a director")
    if priorities is None:
        return
    if not isinstance(priorities, Mapping):
        ctx.err("vrrp: priorities must map each director to 1..254")
        return
    for host, prio in priorities.items():
        if host not in directors:
            ctx.err(f"vrrp: priority given for {host}, which is not a director")
        if not _is_int(prio) or not 1 <= prio <= 254:
            ctx.err(f"vrrp: priority {prio!r} of {host} must be 1..254")
    for host in directors:
        if host not in priorities:
            ctx.err(f"vrrp: director {host} has no priority")
    values = [p for p in priorities.values() if _is_int(p)]
    if len(values) != len(set(values)):
        ctx.err(f"vrrp: priorities are equal ({priorities}): the master would be chosen by address")
    if master is not None and master in priorities and values and priorities[master] != max(values):
        ctx.err(f"vrrp: master {master} does not have the highest priority")


def _check_instances(ctx: _Context, instances, directors: list[str]) -> None:
    if not instances:
        ctx.err("vrrp: instances is empty: list one {name, segment, virtual_router_id} per segment")
        return
    seen_ids: dict[tuple, str] = {}
    seen_names: set[str] = set()
    seen_segments: dict[str, str] = {}
    for index, inst in enumerate(instances):
        name = inst.get("name", f"#{index + 1}") if isinstance(inst, Mapping) else f"#{index + 1}"
        what = f"vrrp instance {name}"
        if not isinstance(inst, Mapping):
            ctx.err(f"{what}: must be a mapping")
            continue
        ctx.unknown_keys(what, inst, {"name", "segment", "virtual_router_id"})
        if name in seen_names:
            ctx.err(f"{what}: the name is used twice")
        seen_names.add(name)
        segment = inst.get("segment")
        if segment not in ctx.segments:
            ctx.err(f"{what}: unknown segment {segment!r}")
        else:
            if segment in seen_segments:
                ctx.err(f"{what}: segment {segment} already has instance {seen_segments[segment]}")
            seen_segments[segment] = name
            for host in directors:
                if host in ctx.hosts and not ctx.nic_on(host, segment):
                    ctx.err(f"{what}: director {host} has no interface on segment {segment}")
        vrid = inst.get("virtual_router_id")
        if not _is_int(vrid) or not 1 <= vrid <= 255:
            ctx.err(f"{what}: virtual_router_id {vrid!r} must be 1..255")
        elif (segment, vrid) in seen_ids:
            ctx.err(
                f"{what}: virtual_router_id {vrid} is already used by "
                f"{seen_ids[(segment, vrid)]} on segment {segment}"
            )
        else:
            seen_ids[(segment, vrid)] = name


def _check_vips(ctx: _Context) -> dict[str, dict]:
    """Validate lvs_vips; return the sound ones by name (with parsed address)."""
    raw = ctx.model.get("vips") or []
    vips: dict[str, dict] = {}
    if not isinstance(raw, list):
        ctx.err("lvs_vips must be a list")
        return vips
    used = {}
    for host, nics in ctx.hosts.items():
        for nic in nics:
            used[nic[2].ip] = f"an address of host {host}"
    for name, seg in ctx.segments.items():
        if seg["gateway"] is not None:
            used[seg["gateway"]] = f"the gateway of segment {name}"
    instances = ctx.model.get("vrrp", {}) if isinstance(ctx.model.get("vrrp"), Mapping) else {}
    vrrp_segments = {
        i.get("segment") for i in instances.get("instances") or [] if isinstance(i, Mapping)
    }
    director_segments = ctx.director_segments()
    gateways = []
    for index, vip in enumerate(raw):
        if not isinstance(vip, Mapping):
            ctx.err(f"vip #{index + 1}: must be a mapping")
            continue
        name = vip.get("name")
        what = f"vip {name if name else '#' + str(index + 1)}"
        ctx.unknown_keys(what, vip, VIP_KEYS)
        if not isinstance(name, str) or not NAME_RE.match(name):
            ctx.err(f"{what}: needs a name (letters, digits, '.', '_', '-')")
            continue
        if name in ctx.declared_vips:
            ctx.err(f"{what}: the name is used twice")
            continue
        ctx.declared_vips.update((name, str(vip.get("address"))))
        address = _ip(vip.get("address"))
        if address is None:
            ctx.err(f"{what}: address {vip.get('address')!r} is not an IP address")
            continue
        segment = vip.get("segment") or ctx.segment_of(address)
        if segment is not None and segment not in ctx.segments:
            ctx.err(f"{what}: unknown segment {segment!r}")
            continue
        if ctx.segment_of(address) not in director_segments:
            ctx.err(f"{what}: {address} is outside every director network")
            continue
        if segment not in director_segments:
            ctx.err(f"{what}: no director has an interface on segment {segment}")
            continue
        network = ctx.segments[segment]["network"]
        if address not in network:
            ctx.err(f"{what}: {address} is not in segment {segment} ({network})")
            continue
        if address in used:
            ctx.err(f"{what}: {address} is already {used[address]}")
            continue
        used[address] = f"vip {name}"
        if ctx.mode == "keepalived" and vrrp_segments and segment not in vrrp_segments:
            ctx.err(f"{what}: no VRRP instance on segment {segment} to hold it")
        if vip.get("nat_gateway"):
            gateways.append(name)
        vips[name] = {
            "name": name,
            "address": address,
            "segment": segment,
            "prefix": network.prefixlen,
            "nat_gateway": bool(vip.get("nat_gateway")),
        }
    if len(gateways) > 1:
        ctx.err(f"vips {', '.join(gateways)}: only one VIP can be the NAT gateway")
    return vips


def _resolve_vip(ctx: _Context, what: str, ref, vips: dict[str, dict]):
    if ref in vips:
        return vips[ref]
    address = _ip(ref)
    if ref in ctx.declared_vips and not any(v["address"] == address for v in vips.values()):
        return None  # the VIP itself is reported
    if address is None:
        ctx.err(f"{what}: VIP {ref!r} is neither a VIP name from lvs_vips nor an address")
        return None
    for vip in vips.values():
        if vip["address"] == address:
            return vip
    segment = ctx.segment_of(address)
    if segment is None or segment not in ctx.director_segments():
        ctx.err(f"{what}: VIP {address} is outside every director network")
    else:
        ctx.err(f"{what}: VIP {address} is not declared in lvs_vips")
    return None


def _nat_gateway(vips: dict[str, dict]):
    return next((v for v in vips.values() if v["nat_gateway"]), None)


def _check_services(ctx: _Context, vips: dict[str, dict]) -> None:
    raw = ctx.model.get("services") or []
    if not isinstance(raw, list):
        ctx.err("lvs_services must be a list")
        return
    names: set[str] = set()
    endpoints: dict[tuple, str] = {}
    fwmarks: dict[int, str] = {}
    for index, svc in enumerate(raw):
        if not isinstance(svc, Mapping):
            ctx.err(f"service #{index + 1}: must be a mapping")
            continue
        name = svc.get("name")
        what = f"service {name if name else '#' + str(index + 1)}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            ctx.err(f"{what}: needs a name (letters, digits, '.', '_', '-')")
        elif name in names:
            ctx.err(f"{what}: the name is used twice")
        names.add(name)
        ctx.unknown_keys(what, svc, SERVICE_KEYS)
        vip = _resolve_vip(ctx, what, svc.get("vip"), vips)
        fwmark = svc.get("fwmark")
        port = svc.get("port")
        if fwmark is not None:
            _check_fwmark(ctx, what, svc, fwmarks)
        else:
            protocol = svc.get("protocol", "tcp")
            if protocol not in PROTOCOLS:
                ctx.err(f"{what}: unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
            if not _port_ok(port):
                ctx.err(f"{what}: port {port!r} must be 1..65535 (or use fwmark)")
            elif vip is not None:
                key = (str(vip["address"]), port, protocol)
                if key in endpoints:
                    ctx.err(
                        f"{what}: {vip['address']}:{port}/{protocol} is already service "
                        f"{endpoints[key]} (duplicate VIP:port:protocol)"
                    )
                else:
                    endpoints[key] = name
        scheduler = svc.get("scheduler", "wlc")
        if scheduler not in SCHEDULERS:
            ctx.err(f"{what}: unknown scheduler {scheduler!r} (known: {', '.join(SCHEDULERS)})")
        method = svc.get("method", "dr")
        if method not in METHODS:
            ctx.err(f"{what}: unknown forwarding method {method!r} (known: dr, tun, nat)")
            method = None
        if method == "nat" and vip is not None and vip["nat_gateway"]:
            ctx.err(f"{what}: the NAT gateway VIP {vip['name']} cannot carry services")
        _check_persistence(ctx, what, svc.get("persistence"), vip)
        weights = _check_real_servers(ctx, what, svc, vip, method, vips)
        _check_quorum(ctx, what, svc.get("quorum"), weights)
        _check_sorry(ctx, what, svc.get("sorry_server"), fwmark is not None)
        if svc.get("check") is not None:
            _check_checker(ctx, what, svc["check"], fwmark is not None)
        inhibit = svc.get("inhibit_on_failure", True)
        if not isinstance(inhibit, bool):
            ctx.err(f"{what}: inhibit_on_failure {inhibit!r} must be true or false")


def _check_fwmark(ctx: _Context, what: str, svc: Mapping, fwmarks: dict[int, str]) -> None:
    fwmark = svc["fwmark"]
    if svc.get("port") is not None or svc.get("protocol") is not None:
        ctx.err(
            f"{what}: fwmark {fwmark} with a port or protocol: a fwmark service matches "
            "by mark only (list the ports in fwmark_match)"
        )
    if not _is_int(fwmark) or not 1 <= fwmark <= MAX_FWMARK:
        ctx.err(f"{what}: fwmark {fwmark!r} must be 1..{MAX_FWMARK}")
    elif fwmark in fwmarks:
        ctx.err(f"{what}: fwmark {fwmark} is already service {fwmarks[fwmark]} (duplicate fwmark)")
    else:
        fwmarks[fwmark] = svc.get("name")
    matches = svc.get("fwmark_match")
    if not matches or not isinstance(matches, list):
        ctx.err(f"{what}: fwmark {fwmark} needs fwmark_match (the protocol/ports it groups)")
        return
    for match in matches:
        if not isinstance(match, Mapping):
            ctx.err(f"{what}: fwmark_match item {match!r} must be {{protocol, port}}")
            continue
        if match.get("protocol") not in PROTOCOLS:
            ctx.err(f"{what}: fwmark_match protocol {match.get('protocol')!r} is unknown")
        if _port_range(match.get("port")) is None:
            ctx.err(
                f"{what}: fwmark_match port {match.get('port')!r} must be 1..65535 or "
                "a range 'FIRST:LAST'"
            )


def _port_range(value):
    if _port_ok(value):
        return (value, value)
    if isinstance(value, str) and re.fullmatch(r"\d{1,5}:\d{1,5}", value):
        first, last = (int(p) for p in value.split(":"))
        if 1 <= first < last <= 65535:
            return (first, last)
    return None


def _check_persistence(ctx: _Context, what: str, persistence, vip) -> None:
    if persistence is None:
        return
    if not isinstance(persistence, Mapping):
        ctx.err(f"{what}: persistence must be {{timeout, netmask}}")
        return
    ctx.unknown_keys(f"{what} persistence", persistence, {"timeout", "netmask"})
    timeout = persistence.get("timeout", 300)
    if not _is_int(timeout) or not 1 <= timeout <= 2**31 - 1:
        ctx.err(f"{what}: persistence timeout {timeout!r} must be a positive number of seconds")
    netmask = persistence.get("netmask")
    if netmask is not None and _netmask(netmask, vip) is None:
        ctx.err(f"{what}: persistence netmask {netmask!r} is invalid")


def _netmask(value, vip):
    """A netmask as a prefix length, or None when invalid (contiguous masks only)."""
    v6 = vip is not None and vip["address"].version == 6
    if _is_int(value):
        return value if 0 <= value <= (128 if v6 else 32) else None
    if v6 or not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(f"0.0.0.0/{value}").prefixlen
    except ValueError:
        return None


def _rs_nic(ctx: _Context, host: str, rs: Mapping, method, vip, vips):
    """The interface a real server is reached on, and the segment wanted (for errors)."""
    if rs.get("segment"):
        return ctx.nic_on(host, rs["segment"]), rs["segment"]
    if method == "nat":
        gateway = _nat_gateway(vips)
        segment = gateway["segment"] if gateway else None
        return (ctx.nic_on(host, segment) if segment else None), segment
    if vip is not None:
        nic = ctx.nic_on(host, vip["segment"])
        if nic or method == "dr":
            return nic, vip["segment"]
    nics = ctx.hosts.get(host) or []
    return (nics[0] if nics else None), None


def _check_real_servers(ctx: _Context, what: str, svc: Mapping, vip, method, vips) -> int:
    """Check the pool; return the sum of the sound weights."""
    servers = svc.get("real_servers")
    if not servers or not isinstance(servers, list):
        ctx.err(f"{what}: has no real servers")
        return 0
    fwmark = svc.get("fwmark") is not None
    port = svc.get("port")
    gateway = _nat_gateway(vips)
    if method == "nat":
        if gateway is None:
            ctx.err(
                f"{what}: NAT needs an inside VIP as the real servers' gateway: mark one "
                "lvs_vips entry nat_gateway: true"
            )
        elif vip is not None and vip["segment"] == gateway["segment"]:
            ctx.err(
                f"{what}: NAT VIP {vip['address']} is on segment {vip['segment']}, the same "
                "segment as the NAT gateway: clients and real servers must be on different sides"
            )
    total = 0
    seen: set[str] = set()
    for index, rs in enumerate(servers):
        if not isinstance(rs, Mapping):
            ctx.err(f"{what}: real server #{index + 1} must be {{host, port, weight}}")
            continue
        host = rs.get("host")
        rwhat = f"{what}: real server {host}"
        ctx.unknown_keys(rwhat, rs, REAL_SERVER_KEYS)
        if host in seen:
            ctx.err(f"{rwhat} is listed twice")
            continue
        seen.add(host)
        if host not in ctx.hosts:
            ctx.err(f"{rwhat} is not in the inventory")
            continue
        if host not in ctx.group(REALSERVERS_GROUP):
            ctx.err(f"{rwhat} is not in the '{REALSERVERS_GROUP}' group")
        weight = rs.get("weight", 1)
        if not _is_int(weight) or not 0 <= weight <= MAX_WEIGHT:
            ctx.err(f"{rwhat}: weight {weight!r} is out of range 0..{MAX_WEIGHT}")
        else:
            total += weight
        rport = rs.get("port")
        if fwmark:
            if rport is not None:
                ctx.err(f"{rwhat}: port {rport} on a fwmark service (the packet keeps its port)")
        elif rport is not None:
            if not _port_ok(rport):
                ctx.err(f"{rwhat}: port {rport!r} must be 1..65535")
            elif method in ("dr", "tun") and _port_ok(port) and rport != port:
                ctx.err(
                    f"{rwhat}: port {rport} differs from the service port {port}: "
                    f"{method.upper()} cannot translate ports (only NAT can)"
                )
        if rs.get("segment") is not None and rs["segment"] not in ctx.segments:
            ctx.err(f"{rwhat}: unknown segment {rs['segment']!r}")
            continue
        nic, segment = _rs_nic(ctx, host, rs, method, vip, vips)
        if nic is None and segment is not None:
            if method == "dr":
                ctx.err(
                    f"{rwhat}: no address on segment {segment} of VIP "
                    f"{vip['address'] if vip else '?'} (DR needs a shared LAN)"
                )
            elif method == "nat":
                ctx.err(
                    f"{rwhat}: no address on segment {segment} of the NAT gateway "
                    f"{gateway['address']}: its replies would not go through the director"
                )
            else:
                ctx.err(f"{rwhat}: no address on segment {segment}")
        elif nic is None and method != "nat":
            ctx.err(f"{rwhat}: has no address in lvs_interfaces")
    return total


def _check_quorum(ctx: _Context, what: str, quorum, weights: int) -> None:
    if quorum is None:
        return
    if not _is_int(quorum) or quorum < 1:
        ctx.err(f"{what}: quorum {quorum!r} must be a positive integer")
    elif weights and quorum > weights:
        ctx.err(
            f"{what}: quorum {quorum} can never be met: the real servers' weights add up "
            f"to {weights}"
        )


def _check_sorry(ctx: _Context, what: str, sorry, fwmark: bool) -> None:
    if sorry is None:
        return
    if isinstance(sorry, str):
        sorry = {"address": sorry}
    if not isinstance(sorry, Mapping):
        ctx.err(f"{what}: sorry_server must be {{address, port}}")
        return
    ctx.unknown_keys(f"{what} sorry_server", sorry, {"address", "port"})
    if _ip(sorry.get("address")) is None:
        ctx.err(f"{what}: sorry server address {sorry.get('address')!r} is not an IP address")
    port = sorry.get("port")
    if port is not None and (fwmark or not _port_ok(port)):
        ctx.err(f"{what}: sorry server port {port!r} must be 1..65535 (and none with fwmark)")


def _check_checker(ctx: _Context, what: str, check, fwmark: bool) -> None:
    if not isinstance(check, Mapping):
        ctx.err(f"{what}: check must be a mapping with a type")
        return
    kind = check.get("type")
    if kind not in CHECK_TYPES:
        ctx.err(f"{what}: unknown check type {kind!r} (known: {', '.join(CHECK_TYPES)})")
        return
    ctx.unknown_keys(f"{what} check", check, CHECK_KEYS)
    port = check.get("port")
    if port is not None and not _port_ok(port):
        ctx.err(f"{what}: checker port {port!r} is out of range 1..65535")
    elif port is None and fwmark and kind != "MISC_CHECK":
        ctx.err(f"{what}: {kind} on a fwmark service needs a checker port")
    for key in ("connect_timeout", "delay_loop"):
        value = check.get(key, CHECK_DEFAULTS[key])
        if not _is_num(value) or value <= 0:
            ctx.err(f"{what}: check {key} {value!r} must be a number of seconds above 0")
    for key in ("retry", "delay_before_retry"):
        value = check.get(key, CHECK_DEFAULTS[key])
        if not _is_num(value) or value < 0:
            ctx.err(f"{what}: check {key} {value!r} must be 0 or more")
    if kind in ("HTTP_GET", "SSL_GET"):
        path = check.get("path", "/")
        if not isinstance(path, str) or not path.startswith("/"):
            ctx.err(f"{what}: check path {path!r} must start with '/'")
        status = check.get("status_code", 200)
        if not _is_int(status) or not 100 <= status <= 599:
            ctx.err(f"{what}: check status_code {status!r} must be 100..599")
    if kind == "MISC_CHECK":
        if not isinstance(check.get("misc_path"), str) or not check.get("misc_path"):
            ctx.err(f"{what}: MISC_CHECK needs misc_path (the command to run)")
        timeout = check.get("misc_timeout", 5)
        if not _is_num(timeout) or timeout <= 0:
            ctx.err(f"{what}: check misc_timeout {timeout!r} must be above 0")
    else:
        for key in ("misc_path", "misc_timeout", "misc_dynamic"):
            if key in check:
                ctx.err(f"{what}: check {key} is only for MISC_CHECK")


def _check_sync(ctx: _Context) -> None:
    sync = ctx.model.get("sync")
    if sync is None:
        return
    if not isinstance(sync, Mapping):
        ctx.err("lvs_sync must be a mapping {enabled, segment, syncid}")
        return
    ctx.unknown_keys("lvs_sync", sync, SYNC_KEYS)
    if not sync.get("enabled", True):
        return
    segment = sync.get("segment")
    if segment not in ctx.segments:
        ctx.err(f"sync daemon: unknown segment {segment!r}")
    else:
        for host in ctx.directors():
            if host in ctx.hosts and not ctx.nic_on(host, segment):
                ctx.err(f"sync daemon: director {host} has no interface on segment {segment}")
    syncid = sync.get("syncid", 0)
    if not _is_int(syncid) or not 0 <= syncid <= 255:
        ctx.err(f"sync daemon: syncid {syncid!r} must be 0..255")
    maxlen = sync.get("maxlen")
    if maxlen is not None and (not _is_int(maxlen) or not 1 <= maxlen <= 65535):
        ctx.err(f"sync daemon: maxlen {maxlen!r} must be 1..65535")


def _check_timeouts(ctx: _Context) -> None:
    timeouts = ctx.model.get("timeouts")
    if timeouts is None:
        return
    if not isinstance(timeouts, Mapping):
        ctx.err("lvs_timeouts must be a mapping {tcp, tcp_fin, udp}")
        return
    for key, value in timeouts.items():
        if key not in TIMEOUT_KEYS:
            ctx.err(f"timeout {key}: unknown (known: {', '.join(TIMEOUT_KEYS)})")
        elif not _is_int(value) or value < 0:
            ctx.err(f"timeout {key}: {value!r} must be a number of seconds, 0 or more")


def _check_sysctls(ctx: _Context) -> None:
    sysctls = ctx.model.get("sysctls")
    if sysctls is None:
        return
    if not isinstance(sysctls, Mapping):
        ctx.err("lvs_sysctls must be a mapping of net.ipv4.vs.* names to values")
        return
    for key, value in sysctls.items():
        if key not in SYSCTLS:
            ctx.err(f"sysctl net.ipv4.vs.{key}: unknown (known: {', '.join(sorted(SYSCTLS))})")
        elif key == "sync_threshold":
            if _sync_threshold(value) is None:
                ctx.err(
                    f"sysctl net.ipv4.vs.sync_threshold: {value!r} must be two integers "
                    "[threshold, period] with 0 <= threshold < period"
                )
        else:
            low, high = SYSCTLS[key]
            if not _is_int(value) or not low <= value <= high:
                ctx.err(f"sysctl net.ipv4.vs.{key}: {value!r} must be {low}..{high}")


def _sync_threshold(value):
    parts = value.split() if isinstance(value, str) else value
    if not isinstance(parts, list) or len(parts) != 2:
        return None
    try:
        first, second = (int(p) for p in parts)
    except (TypeError, ValueError):
        return None
    return (first, second) if 0 <= first < second else None


# ---------------------------------------------------------------------------------
# plain per-role variables (for a model that validate() accepted)


class TopologyError(ValueError):
    """The model is not valid: the message lists every problem."""


def _valid_context(model: Mapping, hosts: Mapping, groups: Mapping):
    errors = validate(model, hosts, groups)
    if errors:
        raise TopologyError("; ".join(errors))
    ctx = _Context(model, hosts, groups)
    ctx.mode = model.get("mode", "keepalived")
    vips = _check_vips(ctx)
    return ctx, vips


def _vrrp(model: Mapping) -> dict:
    return {**VRRP_DEFAULTS, **(model.get("vrrp") or {})}


def _priorities(vrrp: Mapping, directors: list[str]) -> dict[str, int]:
    if vrrp.get("priorities"):
        return dict(vrrp["priorities"])
    master = vrrp.get("master") or directors[0]
    others = [d for d in directors if d != master]
    return {master: 150, **{d: 100 - 10 * i for i, d in enumerate(others)}}


def director_vars(model: Mapping, hosts: Mapping, groups: Mapping, host: str) -> dict:
    """The ``lvs_director_*`` variables for one director (see docs/topology.md)."""
    ctx, vips = _valid_context(model, hosts, groups)
    directors = ctx.directors()
    if host not in directors:
        raise TopologyError(f"{host} is not a director")
    mode = model.get("mode", "keepalived")
    vrrp = _vrrp(model)
    services = [_virtual_server(ctx, svc, vips) for svc in model.get("services") or []]
    out = {
        "lvs_director_mode": mode,
        "lvs_director_vips": [
            {
                "name": v["name"],
                "address": f"{v['address']}/{v['prefix']}",
                "interface": ctx.nic_on(host, v["segment"])[0],
            }
            for v in vips.values()
        ],
        "lvs_director_virtual_servers": services,
        "lvs_director_fwmark_rules": _fwmark_rules(model, vips),
        "lvs_director_sync_daemon": _sync(ctx, model, host),
        "lvs_director_timeouts": dict(model.get("timeouts") or {}),
        "lvs_director_sysctls": _sysctls(model, services),
        "lvs_director_vrrp_instances": [],
    }
    if mode == "keepalived" and model.get("vrrp"):
        prios = _priorities(vrrp, directors)
        master = max(prios, key=prios.get)
        for inst in vrrp.get("instances") or []:
            nic = ctx.nic_on(host, inst["segment"])
            peers = vrrp.get("unicast_peers") or directors
            out["lvs_director_vrrp_instances"].append(
                {
                    "name": inst["name"],
                    "interface": nic[0],
                    "state": "MASTER" if host == master else "BACKUP",
                    "priority": prios[host],
                    "virtual_router_id": inst["virtual_router_id"],
                    "version": vrrp["version"],
                    "advert_int": vrrp["advert_int"],
                    "preempt": vrrp["preempt"],
                    "preempt_delay": vrrp["preempt_delay"],
                    "unicast_src_ip": str(nic[2].ip) if vrrp["unicast"] else None,
                    "unicast_peers": [
                        str(ctx.nic_on(p, inst["segment"])[2].ip) for p in peers if p != host
                    ]
                    if vrrp["unicast"]
                    else [],
                    "auth": dict(vrrp["auth"]) if vrrp.get("auth") else None,
                    "virtual_ipaddresses": [
                        {"address": f"{v['address']}/{v['prefix']}", "interface": nic[0]}
                        for v in vips.values()
                        if v["segment"] == inst["segment"]
                    ],
                }
            )
    return out


def _virtual_server(ctx: _Context, svc: Mapping, vips: dict[str, dict]) -> dict:
    vip = vips.get(svc["vip"]) or next(
        v for v in vips.values() if str(v["address"]) == str(svc["vip"])
    )
    method = svc.get("method", "dr")
    fwmark = svc.get("fwmark")
    persistence = svc.get("persistence")
    netmask = None
    if persistence and persistence.get("netmask") is not None:
        prefix = _netmask(persistence["netmask"], vip)
        netmask = (
            str(ipaddress.ip_network(f"0.0.0.0/{prefix}").netmask)
            if vip["address"].version == 4
            else prefix
        )
    sorry = svc.get("sorry_server")
    if isinstance(sorry, str):
        sorry = {"address": sorry}
    check = None
    if svc.get("check"):
        check = {**CHECK_DEFAULTS, **svc["check"]}
        if check["type"] in ("HTTP_GET", "SSL_GET"):
            check.setdefault("path", "/")
            check.setdefault("status_code", 200)
    real = []
    for rs in svc["real_servers"]:
        nic, _ = _rs_nic(ctx, rs["host"], rs, method, vip, vips)
        real.append(
            {
                "name": rs["host"],
                "address": str(nic[2].ip),
                "port": None if fwmark is not None else rs.get("port", svc.get("port")),
                "weight": rs.get("weight", 1),
            }
        )
    return {
        "name": svc["name"],
        "address": None if fwmark is not None else str(vip["address"]),
        "vip": vip["name"],
        "protocol": None if fwmark is not None else svc.get("protocol", "tcp"),
        "port": None if fwmark is not None else svc["port"],
        "fwmark": fwmark,
        "family": f"ipv{vip['address'].version}",
        "scheduler": svc.get("scheduler", "wlc"),
        "method": method,
        "persistence_timeout": (persistence or {}).get("timeout", 300) if persistence else None,
        "persistence_netmask": netmask,
        "quorum": svc.get("quorum", 1),
        "sorry_server": dict(sorry) if sorry else None,
        "inhibit_on_failure": svc.get("inhibit_on_failure", True),
        "check": check,
        "real_servers": real,
    }


def _fwmark_rules(model: Mapping, vips: dict[str, dict]) -> list[dict]:
    rules = []
    for svc in model.get("services") or []:
        if svc.get("fwmark") is None:
            continue
        vip = vips.get(svc["vip"]) or next(
            v for v in vips.values() if str(v["address"]) == str(svc["vip"])
        )
        for match in svc["fwmark_match"]:
            first, last = _port_range(match["port"])
            rules.append(
                {
                    "fwmark": svc["fwmark"],
                    "address": str(vip["address"]),
                    "protocol": match["protocol"],
                    "port": str(first) if first == last else f"{first}:{last}",
                }
            )
    return rules


def _sync(ctx: _Context, model: Mapping, host: str):
    sync = model.get("sync")
    if not sync or not sync.get("enabled", True):
        return None
    nic = ctx.nic_on(host, sync["segment"])
    out = {"interface": nic[0], "syncid": sync.get("syncid", 0)}
    if sync.get("maxlen") is not None:
        out["sync_maxlen"] = sync["maxlen"]
    return out


def _sysctls(model: Mapping, services: list[dict]) -> dict:
    out = {}
    for key, value in (model.get("sysctls") or {}).items():
        if key == "sync_threshold":
            value = " ".join(str(p) for p in _sync_threshold(value))
        out[f"net.ipv4.vs.{key}"] = value
    if any(s["method"] == "nat" for s in services):
        out["net.ipv4.ip_forward"] = 1
    return out


def realserver_vars(model: Mapping, hosts: Mapping, groups: Mapping, host: str) -> dict:
    """The ``lvs_realserver_*`` variables for one real server (see docs/topology.md)."""
    ctx, vips = _valid_context(model, hosts, groups)
    entries: dict[tuple, dict] = {}
    nat_source = None
    for svc in model.get("services") or []:
        method = svc.get("method", "dr")
        if not any(rs["host"] == host for rs in svc["real_servers"]):
            continue
        vip = vips.get(svc["vip"]) or next(
            v for v in vips.values() if str(v["address"]) == str(svc["vip"])
        )
        if method == "nat":
            rs = next(r for r in svc["real_servers"] if r["host"] == host)
            nat_source = _rs_nic(ctx, host, rs, method, vip, vips)[0]
            continue
        key = (str(vip["address"]), method)
        entry = entries.setdefault(
            key, {"address": str(vip["address"]), "method": method, "services": []}
        )
        entry["services"].append(svc["name"])
    gateway = _nat_gateway(vips)
    nat = None
    if nat_source is not None and gateway is not None:
        nat = {
            "gateway": str(gateway["address"]),
            "interface": nat_source[0],
            "source": str(nat_source[2].ip),
            "network": str(ctx.segments[gateway["segment"]]["network"]),
        }
    return {"lvs_realserver_vips": list(entries.values()), "lvs_realserver_nat": nat}


def storage_vars(model: Mapping, hosts: Mapping, groups: Mapping, host: str) -> dict:
    """The storage roles' variables for any host (see lvs_storage)."""
    ctx, _ = _valid_context(model, hosts, groups)
    return lvs_storage.storage_vars(ctx, host)


def host_vars(model: Mapping, hosts: Mapping, groups: Mapping, host: str) -> dict:
    """Every role variable of one host: its director or real-server part and storage."""
    out = storage_vars(model, hosts, groups, host)
    if host in groups.get(DIRECTORS_GROUP, []):
        out.update(director_vars(model, hosts, groups, host))
    if host in groups.get(REALSERVERS_GROUP, []):
        out.update(realserver_vars(model, hosts, groups, host))
    return out


def plan(model: Mapping, hosts: Mapping, groups: Mapping) -> dict:
    """Per-host role variables for every host of a valid model."""
    names = groups.get("all") or [
        h
        for g in (DIRECTORS_GROUP, REALSERVERS_GROUP, lvs_storage.STORAGE_GROUP)
        for h in groups.get(g, [])
    ]
    return {host: host_vars(model, hosts, groups, host) for host in dict.fromkeys(names)}


def disagreements(models: Mapping) -> list[str]:
    """Hosts that see a different model than the first (e.g. a host_vars override).

    ``models`` maps host name to its :func:`model_from_vars`; the model belongs in
    group_vars/all, so every director and real server must see the same one.
    """
    errors = []
    names = list(models)
    if not names:
        return errors
    first = names[0]
    for name in names[1:]:
        for key in sorted(set(models[first]) | set(models[name])):
            if models[first].get(key) != models[name].get(key):
                errors.append(
                    f"host {name} sees a different lvs_{key} than {first}: "
                    "the model belongs in group_vars/all"
                )
    return errors
