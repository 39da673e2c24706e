# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the VIPs and the virtual services with their pools, checkers and marks."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.inventory import Inventory, ip
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    CHECK_TYPES,
    HTTP_CHECK_DEFAULTS,
    MAX_FWMARK,
    MAX_WEIGHT,
    METHODS,
    MISC_CHECK_DEFAULTS,
    NAME_RE,
    PROTOCOLS,
    REALSERVERS_GROUP,
    SCHEDULERS,
    Check,
    FwmarkMatch,
    Persistence,
    RealServer,
    Service,
    SorryServer,
    Vip,
    defaults,
    keys,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.values import (
    is_int,
    is_num,
    netmask_prefix,
    port_ok,
    port_range,
)

SERVICE = defaults(Service)
PERSISTENCE = defaults(Persistence)
REAL_SERVER = defaults(RealServer)
CHECK_DEFAULTS = defaults(Check)
VIP_KEYS = keys(Vip)
SERVICE_KEYS = keys(Service)
REAL_SERVER_KEYS = keys(RealServer)
CHECK_KEYS = keys(Check)
FWMARK_MATCH_KEYS = keys(FwmarkMatch)


def check_vips(ctx: Inventory) -> dict[str, dict]:
    """Validate lvs_vips; return the sound ones by name (with parsed address)."""
    raw = ctx.raw.get("vips") or []
    vips: dict[str, dict] = {}
    if not isinstance(raw, list):
        ctx.err("lvs_vips must be a list")
        return vips
    used = {}
    for host, nics in ctx.hosts.items():
        for nic in nics:
            used[nic.interface.ip] = f"an address of host {host}"
    for name, seg in ctx.segments.items():
        if seg.gateway is not None:
            used[seg.gateway] = f"the gateway of segment {name}"
    instances = ctx.raw.get("vrrp", {}) if isinstance(ctx.raw.get("vrrp"), Mapping) else {}
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
        address = ip(vip.get("address"))
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
        network = ctx.segments[segment].network
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


def _resolve_vip(ctx: Inventory, what: str, ref, vips: dict[str, dict]):
    if ref in vips:
        return vips[ref]
    address = ip(ref)
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


def nat_gateway(vips: dict[str, dict]):
    return next((v for v in vips.values() if v["nat_gateway"]), None)


def check_services(ctx: Inventory, vips: dict[str, dict]) -> None:
    raw = ctx.raw.get("services") or []
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
            _check_fwmark(ctx, what, svc, fwmarks, vip)
        else:
            protocol = svc.get("protocol", SERVICE["protocol"])
            if protocol not in PROTOCOLS:
                ctx.err(f"{what}: unknown protocol {protocol!r} (known: {', '.join(PROTOCOLS)})")
            if not port_ok(port):
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
        scheduler = svc.get("scheduler", SERVICE["scheduler"])
        if scheduler not in SCHEDULERS:
            ctx.err(f"{what}: unknown scheduler {scheduler!r} (known: {', '.join(SCHEDULERS)})")
        method = svc.get("method", SERVICE["method"])
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
        inhibit = svc.get("inhibit_on_failure", SERVICE["inhibit_on_failure"])
        if not isinstance(inhibit, bool):
            ctx.err(f"{what}: inhibit_on_failure {inhibit!r} must be true or false")


def _check_destinations(ctx: Inventory, what: str, svc: Mapping, destinations, vip) -> None:
    """A transparent match: networks the clients address, which the directors take for
    themselves. None may hold a segment of the cluster (the directors would take the
    traffic to their own hosts, the caches' fetches included, and loop)."""
    if not isinstance(destinations, list) or not destinations:
        ctx.err(f"{what}: fwmark_match destinations must be a list of networks")
        return
    method = svc.get("method", SERVICE["method"])
    if method == "nat":
        ctx.err(
            f"{what}: destinations with NAT: the real servers must see the address the "
            "client asked for (use tun or dr)"
        )
    for text in destinations:
        try:
            network = ipaddress.ip_network(str(text))
        except ValueError as exc:
            ctx.err(f"{what}: fwmark_match destination {text!r}: {exc}")
            continue
        if vip is not None and network.version != vip["address"].version:
            ctx.err(f"{what}: destination {network} is not of the VIP's address family")
            continue
        for name, seg in ctx.segments.items():
            if network.overlaps(seg.network):
                ctx.err(
                    f"{what}: destination {network} overlaps segment {name} "
                    f"({seg.network}): the directors would take traffic to the cluster's "
                    "own hosts"
                )
        if vip is not None and vip["address"] in network:
            ctx.err(f"{what}: destination {network} holds the VIP {vip['address']}")


def _check_fwmark(ctx: Inventory, what: str, svc: Mapping, fwmarks: dict[int, str], vip) -> None:
    fwmark = svc["fwmark"]
    if svc.get("port") is not None or svc.get("protocol") is not None:
        ctx.err(
            f"{what}: fwmark {fwmark} with a port or protocol: a fwmark service matches "
            "by mark only (list the ports in fwmark_match)"
        )
    if not is_int(fwmark) or not 1 <= fwmark <= MAX_FWMARK:
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
        ctx.unknown_keys(f"{what} fwmark_match", match, FWMARK_MATCH_KEYS)
        if "destinations" in match:
            _check_destinations(ctx, what, svc, match["destinations"], vip)
        if match.get("protocol") not in PROTOCOLS:
            ctx.err(f"{what}: fwmark_match protocol {match.get('protocol')!r} is unknown")
        if port_range(match.get("port")) is None:
            ctx.err(
                f"{what}: fwmark_match port {match.get('port')!r} must be 1..65535 or "
                "a range 'FIRST:LAST'"
            )


def _check_persistence(ctx: Inventory, what: str, persistence, vip) -> None:
    if persistence is None:
        return
    if not isinstance(persistence, Mapping):
        ctx.err(f"{what}: persistence must be {{timeout, netmask}}")
        return
    ctx.unknown_keys(f"{what} persistence", persistence, keys(Persistence))
    timeout = persistence.get("timeout", PERSISTENCE["timeout"])
    if not is_int(timeout) or not 1 <= timeout <= 2**31 - 1:
        ctx.err(f"{what}: persistence timeout {timeout!r} must be a positive number of seconds")
    netmask = persistence.get("netmask")
    v6 = vip is not None and vip["address"].version == 6
    if netmask is not None and netmask_prefix(netmask, v6) is None:
        ctx.err(f"{what}: persistence netmask {netmask!r} is invalid")


def rs_nic(ctx: Inventory, host: str, rs: Mapping, method, vip, vips):
    """The interface a real server is reached on, and the segment wanted (for errors)."""
    if rs.get("segment"):
        return ctx.nic_on(host, rs["segment"]), rs["segment"]
    if method == "nat":
        gateway = nat_gateway(vips)
        segment = gateway["segment"] if gateway else None
        return (ctx.nic_on(host, segment) if segment else None), segment
    if vip is not None:
        nic = ctx.nic_on(host, vip["segment"])
        if nic or method == "dr":
            return nic, vip["segment"]
    nics = ctx.hosts.get(host) or []
    return (nics[0] if nics else None), None


def _check_real_servers(ctx: Inventory, what: str, svc: Mapping, vip, method, vips) -> int:
    """Check the pool; return the sum of the sound weights."""
    servers = svc.get("real_servers")
    if not servers or not isinstance(servers, list):
        ctx.err(f"{what}: has no real servers")
        return 0
    fwmark = svc.get("fwmark") is not None
    port = svc.get("port")
    gateway = nat_gateway(vips)
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
        weight = rs.get("weight", REAL_SERVER["weight"])
        if not is_int(weight) or not 0 <= weight <= MAX_WEIGHT:
            ctx.err(f"{rwhat}: weight {weight!r} is out of range 0..{MAX_WEIGHT}")
        else:
            total += weight
        rport = rs.get("port")
        if fwmark:
            if rport is not None:
                ctx.err(f"{rwhat}: port {rport} on a fwmark service (the packet keeps its port)")
        elif rport is not None:
            if not port_ok(rport):
                ctx.err(f"{rwhat}: port {rport!r} must be 1..65535")
            elif method in ("dr", "tun") and port_ok(port) and rport != port:
                ctx.err(
                    f"{rwhat}: port {rport} differs from the service port {port}: "
                    f"{method.upper()} cannot translate ports (only NAT can)"
                )
        if rs.get("segment") is not None and rs["segment"] not in ctx.segments:
            ctx.err(f"{rwhat}: unknown segment {rs['segment']!r}")
            continue
        nic, segment = rs_nic(ctx, host, rs, method, vip, vips)
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


def _check_quorum(ctx: Inventory, what: str, quorum, weights: int) -> None:
    if quorum is None:
        return
    if not is_int(quorum) or quorum < 1:
        ctx.err(f"{what}: quorum {quorum!r} must be a positive integer")
    elif weights and quorum > weights:
        ctx.err(
            f"{what}: quorum {quorum} can never be met: the real servers' weights add up "
            f"to {weights}"
        )


def _check_sorry(ctx: Inventory, what: str, sorry, fwmark: bool) -> None:
    if sorry is None:
        return
    if isinstance(sorry, str):
        sorry = {"address": sorry}
    if not isinstance(sorry, Mapping):
        ctx.err(f"{what}: sorry_server must be {{address, port}}")
        return
    ctx.unknown_keys(f"{what} sorry_server", sorry, keys(SorryServer))
    if ip(sorry.get("address")) is None:
        ctx.err(f"{what}: sorry server address {sorry.get('address')!r} is not an IP address")
    port = sorry.get("port")
    if port is not None and (fwmark or not port_ok(port)):
        ctx.err(f"{what}: sorry server port {port!r} must be 1..65535 (and none with fwmark)")


def _check_checker(ctx: Inventory, what: str, check, fwmark: bool) -> None:
    if not isinstance(check, Mapping):
        ctx.err(f"{what}: check must be a mapping with a type")
        return
    kind = check.get("type")
    if kind not in CHECK_TYPES:
        ctx.err(f"{what}: unknown check type {kind!r} (known: {', '.join(CHECK_TYPES)})")
        return
    ctx.unknown_keys(f"{what} check", check, CHECK_KEYS)
    port = check.get("port")
    if port is not None and not port_ok(port):
        ctx.err(f"{what}: checker port {port!r} is out of range 1..65535")
    elif port is None and fwmark and kind != "MISC_CHECK":
        ctx.err(f"{what}: {kind} on a fwmark service needs a checker port")
    for key in ("connect_timeout", "delay_loop"):
        value = check.get(key, CHECK_DEFAULTS[key])
        if not is_num(value) or value <= 0:
            ctx.err(f"{what}: check {key} {value!r} must be a number of seconds above 0")
    for key in ("retry", "delay_before_retry"):
        value = check.get(key, CHECK_DEFAULTS[key])
        if not is_num(value) or value < 0:
            ctx.err(f"{what}: check {key} {value!r} must be 0 or more")
    if kind in ("HTTP_GET", "SSL_GET"):
        path = check.get("path", HTTP_CHECK_DEFAULTS["path"])
        if not isinstance(path, str) or not path.startswith("/"):
            ctx.err(f"{what}: check path {path!r} must start with '/'")
        status = check.get("status_code", HTTP_CHECK_DEFAULTS["status_code"])
        if not is_int(status) or not 100 <= status <= 599:
            ctx.err(f"{what}: check status_code {status!r} must be 100..599")
    if kind == "MISC_CHECK":
        if not isinstance(check.get("misc_path"), str) or not check.get("misc_path"):
            ctx.err(f"{what}: MISC_CHECK needs misc_path (the command to run)")
        timeout = check.get("misc_timeout", MISC_CHECK_DEFAULTS["misc_timeout"])
        if not is_num(timeout) or timeout <= 0:
            ctx.err(f"{what}: check misc_timeout {timeout!r} must be above 0")
    else:
        for key in ("misc_path", "misc_timeout", "misc_dynamic"):
            if key in check:
                ctx.err(f"{what}: check {key} is only for MISC_CHECK")
