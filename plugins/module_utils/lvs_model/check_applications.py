# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of lvs_applications, and of every virtual service against what its real
servers' applications serve."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.applications import (
    KNOWN,
    MEDIA_MAX_SESSIONS,
    MEDIA_STREAMS_PER_SESSION,
    port_pairs,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.inventory import Inventory
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    NAME_RE,
    PROTOCOLS,
    Application,
    Service,
    defaults,
    keys,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.values import (
    is_int,
    port_ok,
    port_range,
    port_text,
)

APPLICATION_KEYS = keys(Application) - {"name"}
SERVICE = defaults(Service)


def listens_of(name: str, entry: Mapping) -> list[tuple[str, int, int, str]]:
    """(protocol, first, last, label) of everything that reaches an application's hosts."""
    if entry.get("managed", True) is False:
        out = []
        for item in entry.get("listen") or []:
            span = port_range(item.get("port")) if isinstance(item, Mapping) else None
            if span is not None and item.get("protocol") in PROTOCOLS:
                out.append((item["protocol"], *span, name))
        return out
    spec = KNOWN.get(entry.get("role") or name)
    if spec is None:
        return []
    overrides = entry.get("ports") if isinstance(entry.get("ports"), Mapping) else {}
    return [
        (port.protocol, *span, name)
        for port in spec.ports
        for span in [port.span(overrides.get(port.name))]
        if span is not None
    ]


def check_applications(ctx: Inventory, share_clients: Mapping) -> dict[str, list]:
    """Report every problem of lvs_applications; return what reaches each host."""
    raw = ctx.raw.get("applications")
    served: dict[str, list] = {}
    if raw is None:
        return served
    if not isinstance(raw, Mapping):
        ctx.err("lvs_applications must map application names to {hosts, ...}")
        return served
    for name, entry in raw.items():
        what = f"application {name}"
        if not isinstance(name, str) or not NAME_RE.match(name):
            ctx.err(f"{what}: the name must be letters, digits, '.', '_' or '-'")
            continue
        if not isinstance(entry, Mapping):
            ctx.err(f"{what}: must be a mapping {{hosts, ...}}")
            continue
        ctx.unknown_keys(what, entry, APPLICATION_KEYS)
        hosts = ctx.expand(f"{what}: hosts", entry.get("hosts"))
        managed = entry.get("managed", True)
        if not isinstance(managed, bool):
            ctx.err(f"{what}: managed {managed!r} must be true or false")
        elif managed:
            _check_managed(ctx, what, name, entry, hosts, share_clients)
            if (entry.get("role") or name) == "media":
                _check_media(ctx, what, entry, hosts)
        else:
            _check_unmanaged(ctx, what, entry)
        for host in hosts:
            served.setdefault(host, []).extend(listens_of(name, entry))
    for host, listens in served.items():
        _check_conflicts(ctx, host, listens)
    return served


def _check_managed(ctx, what, name, entry, hosts, share_clients) -> None:
    role = entry.get("role") or name
    spec = KNOWN.get(role)
    if spec is None:
        ctx.err(
            f"{what}: {role!r} is not an application of the collection (known: "
            f"{', '.join(sorted(KNOWN))}); one run outside it is declared with "
            "managed: false and its listen ports"
        )
        return
    if "listen" in entry:
        ctx.err(f"{what}: listen is for applications managed outside the collection")
    ports = entry.get("ports") or {}
    names = {port.name for port in spec.ports}
    if not isinstance(ports, Mapping):
        ctx.err(f"{what}: ports must map port names ({', '.join(sorted(names))}) to ports")
    else:
        by_name = {port.name: port for port in spec.ports}
        for port_name, number in ports.items():
            if port_name not in names:
                ctx.err(f"{what}: unknown port {port_name!r} (known: {', '.join(sorted(names))})")
            elif by_name[port_name].span(number) is None:
                wanted = "'FIRST:LAST' in 1..65535" if by_name[port_name].last else "1..65535"
                ctx.err(f"{what}: port {port_name} {number!r} must be {wanted}")
    settings = entry.get("settings") or {}
    if not isinstance(settings, Mapping):
        ctx.err(f"{what}: settings must map role variables to values")
    else:
        for key in settings:
            if key not in spec.settings:
                ctx.err(
                    f"{what}: setting {key!r} is not one the model may set "
                    f"(known: {', '.join(spec.settings)})"
                )
    shares = entry.get("shares") or {}
    purposes = dict(spec.shares)
    if not isinstance(shares, Mapping):
        ctx.err(f"{what}: shares must map purposes ({', '.join(purposes)}) to share names")
        return
    for purpose, share in shares.items():
        if purpose not in purposes:
            known = ", ".join(purposes) or "none"
            ctx.err(f"{what}: unknown share purpose {purpose!r} (known: {known})")
        elif share not in share_clients:
            ctx.err(f"{what}: {purpose} share {share!r} is not a share of lvs_storage")
        else:
            for host in hosts:
                if host not in share_clients[share]:
                    ctx.err(f"{what}: host {host} does not mount share {share} ({purpose})")


def _check_media(ctx, what, entry, hosts) -> None:
    """The RTP range holds the sessions; a client's RTSP and its UDP reach one server."""
    spec = KNOWN["media"]
    ports = entry.get("ports") if isinstance(entry.get("ports"), Mapping) else {}
    rtsp, rtp = (port.span(ports.get(port.name)) for port in spec.ports)
    settings = entry.get("settings") if isinstance(entry.get("settings"), Mapping) else {}
    sessions = settings.get("media_max_sessions", MEDIA_MAX_SESSIONS)
    if not is_int(sessions) or sessions < 1:
        ctx.err(f"{what}: media_max_sessions {sessions!r} must be 1 or more")
    elif rtp is not None:
        pairs = port_pairs(*rtp)
        if pairs < sessions * MEDIA_STREAMS_PER_SESSION:
            ctx.err(
                f"{what}: the RTP ports {port_text(*rtp)} hold {pairs} RTP/RTCP pair(s), "
                f"fewer than media_max_sessions {sessions} x {MEDIA_STREAMS_PER_SESSION} "
                "stream(s)"
            )
    if rtsp is None or rtp is None:
        return
    services = ctx.raw.get("services") if isinstance(ctx.raw.get("services"), list) else []
    for svc in services:
        if not isinstance(svc, Mapping) or not isinstance(svc.get("real_servers"), list):
            continue
        pool = {rs.get("host") for rs in svc["real_servers"] if isinstance(rs, Mapping)}
        if not pool & set(hosts):
            continue
        carried = [(p, f, la, "") for p, f, la in backend_ports(svc, {})]
        if not _covered(carried, "tcp", *rtsp):
            continue  # not the media service (another application's)
        name = svc.get("name")
        if not _covered(carried, "udp", *rtp):
            ctx.err(
                f"service {name}: carries RTSP (tcp/{rtsp[0]}) to media servers but not "
                f"their RTP/RTCP ports udp/{port_text(*rtp)}: a client's RTCP reports would "
                "not reach the server of its session (one fwmark service for both)"
            )
        if svc.get("method", SERVICE["method"]) == "nat":
            ctx.err(
                f"service {name}: media servers send RTP from the VIP, which needs method dr or tun"
            )


def _check_unmanaged(ctx, what, entry) -> None:
    for key in ("role", "shares", "ports", "settings"):
        if key in entry:
            ctx.err(f"{what}: {key} is for applications of the collection (managed: false)")
    listen = entry.get("listen")
    if not isinstance(listen, list) or not listen:
        ctx.err(f"{what}: an application managed outside the collection needs listen ports")
        return
    for item in listen:
        if not isinstance(item, Mapping) or set(item) - {"protocol", "port"}:
            ctx.err(f"{what}: listen item {item!r} must be {{protocol, port}}")
        elif item.get("protocol") not in PROTOCOLS:
            ctx.err(f"{what}: listen protocol {item.get('protocol')!r} is unknown")
        elif port_range(item.get("port")) is None:
            ctx.err(f"{what}: listen port {item.get('port')!r} must be 1..65535 or 'FIRST:LAST'")


def _check_conflicts(ctx, host, listens) -> None:
    for index, (protocol, first, last, name) in enumerate(listens):
        for other_protocol, other_first, other_last, other in listens[index + 1 :]:
            overlap = first <= other_last and other_first <= last
            if other != name and protocol == other_protocol and overlap:
                ctx.err(
                    f"host {host}: applications {name} and {other} both listen on "
                    f"{protocol}/{port_text(max(first, other_first), min(last, other_last))}"
                )


def _covered(listens, protocol: str, first: int, last: int) -> bool:
    """Is every port first..last of protocol received by some application?"""
    spans = sorted((f, la) for p, f, la, _ in listens if p == protocol)
    wanted = first
    for span_first, span_last in spans:
        if span_first > wanted:
            break
        wanted = max(wanted, span_last + 1)
        if wanted > last:
            return True
    return False


def backend_ports(svc: Mapping, rs: Mapping) -> list[tuple[str, int, int]]:
    """What a service sends to one real server: (protocol, first, last) each."""
    if svc.get("fwmark") is not None:
        return [
            (m["protocol"], *port_range(m["port"]))
            for m in svc.get("fwmark_match") or []
            if isinstance(m, Mapping) and port_range(m.get("port"))
        ]
    port = svc.get("port")
    if svc.get("method", SERVICE["method"]) == "nat" and rs.get("port") is not None:
        port = rs["port"]
    return [(svc.get("protocol", SERVICE["protocol"]), port, port)] if port_ok(port) else []


def check_served(ctx: Inventory, served: Mapping) -> None:
    """Every virtual service reaches something on each of its real servers."""
    services = ctx.raw.get("services")
    if not isinstance(services, list):
        return
    for svc in services:
        if not isinstance(svc, Mapping) or not isinstance(svc.get("real_servers"), list):
            continue
        # (protocol, first, last) -> the real servers where nothing receives it
        unserved: dict[tuple, list[str]] = {}
        for rs in svc["real_servers"]:
            host = rs.get("host") if isinstance(rs, Mapping) else None
            if host not in ctx.hosts:
                continue
            for wanted in backend_ports(svc, rs):
                if not _covered(served.get(host, []), *wanted):
                    unserved.setdefault(wanted, []).append(host)
        for (protocol, first, last), hosts in unserved.items():
            listens = [item for h in hosts for item in served.get(h, [])]
            there = dict.fromkeys(f"{name} {p}/{port_text(f, la)}" for p, f, la, name in listens)
            ctx.err(
                f"service {svc.get('name')}: nothing on real server {', '.join(hosts)} serves "
                f"{protocol}/{port_text(first, last)} (applications there: "
                f"{', '.join(there) or 'none'}; declare one in lvs_applications)"
            )
