# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input checks for the IPVS modules: user dicts -> model objects, or a clear error.

Everything here runs before the kernel is touched. The argument spec dicts are plain
data so that a module and any other front end share them. No Ansible imports.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    AF_INET6,
    DEFAULT_NETMASK,
    FAMILIES,
    FAMILY_NAMES,
    HASH_SCHEDULERS,
    PROTOCOLS,
    SCHEDULERS,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    TUNNEL_CHECKSUMS,
    TUNNEL_TYPES,
    Destination,
    Service,
    SyncDaemon,
    parse_address,
)

U32_MAX = 0xFFFFFFFF

DESTINATION_SPEC = {
    "address": {"type": "str", "required": True},
    "port": {"type": "int"},
    "weight": {"type": "int", "default": 1},
    "forwarding": {"type": "str", "default": "dr", "choices": ["dr", "tun", "nat"]},
    "upper_threshold": {"type": "int", "default": 0},
    "lower_threshold": {"type": "int", "default": 0},
    "tunnel_type": {"type": "str", "choices": list(TUNNEL_TYPES)},
    "tunnel_port": {"type": "int"},
    "tunnel_checksum": {"type": "str", "choices": list(TUNNEL_CHECKSUMS)},
}

SERVICE_SPEC = {
    "address": {"type": "str"},
    "port": {"type": "int"},
    "protocol": {"type": "str", "choices": list(PROTOCOLS)},
    "fwmark": {"type": "int"},
    "family": {"type": "str", "choices": list(FAMILIES)},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "scheduler": {"type": "str", "default": "wlc", "choices": list(SCHEDULERS)},
    "persistence_timeout": {"type": "int"},
    "persistence_netmask": {"type": "str"},
    "one_packet": {"type": "bool", "default": False},
    "hash_fallback": {"type": "bool", "default": False},
    "hash_port": {"type": "bool", "default": False},
    "destinations": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": DESTINATION_SPEC,
    },
}

DAEMON_SPEC = {
    "role": {"type": "str", "required": True, "choices": ["master", "backup"]},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "interface": {"type": "str"},
    "syncid": {"type": "int", "default": 0},
    "sync_maxlen": {"type": "int"},
    "mcast_group": {"type": "str"},
    "mcast_port": {"type": "int"},
    "mcast_ttl": {"type": "int"},
}


class InvalidInput(ValueError):
    pass


def _text(what) -> str:
    # messages are built only on failure: 11,000 destinations mostly pass
    return what() if callable(what) else what


def _ip(value, what) -> tuple[int, str]:
    """(family, canonical text); inet_pton is strict (no leading zeros, no %scope)."""
    try:
        family, _packed, text = parse_address(str(value).strip())
        return family, text
    except (OSError, ValueError, TypeError):
        raise InvalidInput(f"{_text(what)}: '{value}' is not an IPv4 or IPv6 address") from None


def _range(value, low: int, high: int, what) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"{_text(what)} must be an integer from {low} to {high}, got {value!r}")
    return value


def _netmask(value, family: int, what: str) -> int:
    """IPv4: dotted mask or prefix length -> 32-bit mask; IPv6: prefix length 1..128."""
    text = str(value).strip()
    if family == AF_INET6:
        if not text.isdigit() or not 1 <= int(text) <= 128:
            raise InvalidInput(
                f"{what}: an IPv6 persistence netmask is a prefix length 1..128, got '{value}'"
            )
        return int(text)
    try:
        if text.isdigit():
            return int(ipaddress.IPv4Network(f"0.0.0.0/{text}").netmask)
        mask = int(ipaddress.IPv4Address(text))
    except ValueError:
        raise InvalidInput(f"{what}: '{value}' is not an IPv4 netmask") from None
    if mask == 0 or (~mask & U32_MAX) & ((~mask & U32_MAX) + 1):
        raise InvalidInput(f"{what}: '{value}' is not a contiguous IPv4 netmask")
    return mask


def _known_keys(item: dict, spec: dict, what) -> None:
    # Ansible rejects unknown options itself; other callers (tests, pyinfra) get it here
    unknown = item.keys() - spec.keys()
    if unknown:
        raise InvalidInput(f"{_text(what)}: unknown option(s) {', '.join(sorted(unknown))}")


# the strings Ansible's argument spec takes for a bool (module_utils.parsing.convert_bool)
_TRUE = frozenset(("y", "yes", "on", "1", "true", "t"))
_FALSE = frozenset(("n", "no", "off", "0", "false", "f"))


def _convert(value, kind: str):
    """A value as Ansible's argument spec converts it to its type, or ValueError."""
    if kind == "str":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)  # 1, 0, 1.0 and 0.0, as Ansible takes them
        text = value.strip().lower() if isinstance(value, str) else None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    elif isinstance(value, list):
        return value
    raise ValueError(kind)


def typed(item, spec: dict, what):
    """One entry checked against its option spec: no unknown option, every value of the
    option's type (converted as Ansible does: "80" -> 80, "yes" -> True), None as unset.

    This is the argument spec's check of a list of dicts with `options`, done here once
    for all entries: Ansible's validator costs ~0.06 ms per nested entry on the build
    host (0.66 s for 1000 services x 10 destinations), several times that on a director.
    Choices and ranges are checked by the parse_* functions.
    """
    if not isinstance(item, dict):
        raise InvalidInput(f"{_text(what)} must be a dict")
    _known_keys(item, spec, what)
    out = item
    for name, value in item.items():
        if value is None:
            continue
        kind = spec[name]["type"]
        try:
            converted = _convert(value, kind)
        except ValueError:
            raise InvalidInput(
                f"{_text(what)}: {name} must be of type {kind}, got {value!r}"
            ) from None
        if converted is not value:
            if out is item:
                out = dict(item)
            out[name] = converted
    return out


def parse_destination(item: dict, svc: Service, where) -> Destination:
    item = typed(item, DESTINATION_SPEC, where)
    family, address = _ip(item.get("address"), lambda: f"{_text(where)}: address")
    forwarding = item.get("forwarding") or "dr"

    def what():
        return f"{_text(where)} ({address})"

    if forwarding not in ("dr", "tun", "nat"):
        raise InvalidInput(f"{what()}: forwarding must be dr, tun or nat, got '{forwarding}'")
    port = item.get("port")
    port = svc.port if port is None else _range(port, 0, 65535, lambda: f"{what()}: port")
    if forwarding != "nat" and port != svc.port:
        raise InvalidInput(
            f"{what()}: with forwarding {forwarding} the destination port must be "
            f"the service port {svc.port}, got {port} (only nat can map ports)"
        )
    if family != svc.family and forwarding != "tun":
        raise InvalidInput(
            f"{what()}: an {FAMILY_NAMES[family]} destination in an "
            f"{FAMILY_NAMES[svc.family]} service works only with forwarding tun"
        )
    weight = item.get("weight")
    weight = 1 if weight is None else _range(weight, 0, 65535, lambda: f"{what()}: weight")
    upper = item.get("upper_threshold") or 0
    lower = item.get("lower_threshold") or 0
    if upper or lower:
        upper = _range(upper, 0, U32_MAX, lambda: f"{what()}: upper_threshold")
        lower = _range(lower, 0, U32_MAX, lambda: f"{what()}: lower_threshold")
        if lower > upper:
            raise InvalidInput(
                f"{what()}: lower_threshold {lower} is above upper_threshold {upper}"
            )
    tun = {k: item.get(k) for k in ("tunnel_type", "tunnel_port", "tunnel_checksum")}
    if forwarding != "tun":
        given = [k for k, v in tun.items() if v is not None]
        if given:
            raise InvalidInput(f"{what()}: {', '.join(given)} only apply to forwarding tun")
        return Destination(address, port, weight, forwarding, upper, lower)
    tun_type = tun["tunnel_type"] or "ipip"
    if tun_type not in TUNNEL_TYPES:
        raise InvalidInput(f"{what()}: unknown tunnel_type '{tun_type}'")
    checksum = tun["tunnel_checksum"] or "nocsum"
    if checksum not in TUNNEL_CHECKSUMS:
        raise InvalidInput(f"{what()}: unknown tunnel_checksum '{checksum}'")
    tun_port = tun["tunnel_port"]
    if tun_type == "gue":
        if tun_port is None:
            raise InvalidInput(f"{what()}: tunnel_type gue needs a tunnel_port")
        tun_port = _range(tun_port, 1, 65535, lambda: f"{what()}: tunnel_port")
    elif tun_port is not None:
        raise InvalidInput(f"{what()}: tunnel_port only applies to tunnel_type gue")
    else:
        tun_port = 0
    if tun_type == "ipip" and checksum != "nocsum":
        raise InvalidInput(f"{what()}: tunnel_checksum only applies to tunnel_type gue or gre")
    return Destination(address, port, weight, "tun", upper, lower, tun_type, tun_port, checksum)


def parse_service(item: dict, index: int = 0) -> tuple[Service, str]:
    """One declared service -> (Service with its destinations, state)."""
    what = f"services[{index}]"
    item = typed(item, SERVICE_SPEC, what)
    state = item.get("state") or "present"
    if state not in ("present", "absent"):
        raise InvalidInput(f"{what}: state must be present or absent, got '{state}'")
    address, fwmark = item.get("address"), item.get("fwmark")
    family_name = item.get("family")
    if family_name is not None and family_name not in FAMILIES:
        raise InvalidInput(f"{what}: family must be ipv4 or ipv6, got '{family_name}'")
    if (address is None) == (fwmark is None):
        raise InvalidInput(f"{what}: give either address (with port and protocol) or fwmark")
    if fwmark is not None:
        fwmark = _range(fwmark, 1, U32_MAX, f"{what}: fwmark")
        given = [k for k in ("port", "protocol") if item.get(k) is not None]
        if given:
            raise InvalidInput(f"{what}: fwmark services have no {' or '.join(given)}")
        family = FAMILIES[family_name or "ipv4"]
        what = f"{what} (fwmark {fwmark})"
        svc = Service(family=family, protocol=None, fwmark=fwmark)
    else:
        family, ip = _ip(address, f"{what}: address")
        if family_name is not None and FAMILIES[family_name] != family:
            raise InvalidInput(f"{what}: address {ip} is not {family_name}")
        protocol = item.get("protocol") or "tcp"
        if protocol not in PROTOCOLS:
            raise InvalidInput(f"{what}: protocol must be tcp, udp or sctp, got '{protocol}'")
        if item.get("port") is None:
            raise InvalidInput(f"{what}: a service by address needs a port")
        port = _range(item["port"], 0, 65535, f"{what}: port")
        svc = Service(family=family, protocol=protocol, address=ip, port=port)
        what = f"{what} ({svc.name()})"
    if state == "absent":
        return svc, state

    scheduler = item.get("scheduler") or "wlc"
    if scheduler not in SCHEDULERS:
        raise InvalidInput(
            f"{what}: unknown scheduler '{scheduler}' (one of {', '.join(SCHEDULERS)})"
        )
    svc.scheduler = scheduler
    timeout = item.get("persistence_timeout")
    if timeout is not None:
        svc.flags |= SVC_F_PERSISTENT
        svc.timeout = _range(timeout, 1, U32_MAX // 1000, f"{what}: persistence_timeout")
        if item.get("persistence_netmask") is not None:
            svc.netmask = _netmask(
                item["persistence_netmask"], family, f"{what}: persistence_netmask"
            )
    elif item.get("persistence_netmask") is not None:
        raise InvalidInput(f"{what}: persistence_netmask needs persistence_timeout")
    if not svc.fwmark and svc.port == 0 and not svc.persistent:
        raise InvalidInput(f"{what}: port 0 (all ports) needs persistence_timeout")
    svc.netmask = svc.netmask if svc.persistent else DEFAULT_NETMASK[family]
    if item.get("one_packet"):
        if svc.protocol not in ("udp", None):
            raise InvalidInput(f"{what}: one_packet scheduling is for UDP services only")
        svc.flags |= SVC_F_ONEPACKET
    for option, bit in (("hash_fallback", SVC_F_SCHED1), ("hash_port", SVC_F_SCHED2)):
        if item.get(option):
            if scheduler not in HASH_SCHEDULERS:
                raise InvalidInput(f"{what}: {option} applies to the sh and mh schedulers only")
            svc.flags |= bit
    dests = item.get("destinations") or []
    seen = {}
    for i, dest_item in enumerate(dests):
        dest = parse_destination(dest_item, svc, lambda i=i: f"{what}: destinations[{i}]")
        if dest.key in seen:
            raise InvalidInput(
                f"{what}: destination {dest.endpoint()} is listed twice "
                f"(destinations[{seen[dest.key]}] and [{i}])"
            )
        seen[dest.key] = i
        svc.destinations.append(dest)
    return svc, state


def parse_services(items: list) -> list[tuple[Service, str]]:
    out = []
    seen = {}
    for index, item in enumerate(items or []):
        svc, state = parse_service(item, index)
        if svc.key in seen:
            raise InvalidInput(
                f"services[{index}]: {svc.name()} is declared twice "
                f"(services[{seen[svc.key]}] and [{index}])"
            )
        seen[svc.key] = index
        out.append((svc, state))
    return out


def parse_daemon(item: dict, index: int = 0) -> tuple[SyncDaemon, str]:
    what = f"daemons[{index}]"
    _known_keys(item, DAEMON_SPEC, what)
    role = item.get("role")
    if role not in ("master", "backup"):
        raise InvalidInput(f"{what}: role must be master or backup, got {role!r}")
    what = f"{what} ({role})"
    state = item.get("state") or "present"
    if state not in ("present", "absent"):
        raise InvalidInput(f"{what}: state must be present or absent, got '{state}'")
    interface = item.get("interface")
    if state == "present" and not interface:
        raise InvalidInput(f"{what}: a running sync daemon needs an interface")
    if interface and (len(interface) > 15 or "/" in interface or " " in interface):
        raise InvalidInput(f"{what}: '{interface}' is not a valid interface name")
    daemon = SyncDaemon(
        role=role,
        interface=interface or "",
        syncid=_range(item.get("syncid") or 0, 0, 255, f"{what}: syncid"),
    )
    if item.get("sync_maxlen") is not None:
        daemon.sync_maxlen = _range(item["sync_maxlen"], 1, 65507, f"{what}: sync_maxlen")
    if item.get("mcast_group") is not None:
        _family, group = _ip(item["mcast_group"], f"{what}: mcast_group")
        if not ipaddress.ip_address(group).is_multicast:
            raise InvalidInput(f"{what}: mcast_group {group} is not a multicast address")
        daemon.mcast_group = group
    if item.get("mcast_port") is not None:
        daemon.mcast_port = _range(item["mcast_port"], 1, 65535, f"{what}: mcast_port")
    if item.get("mcast_ttl") is not None:
        daemon.mcast_ttl = _range(item["mcast_ttl"], 1, 255, f"{what}: mcast_ttl")
    return daemon, state


def parse_daemons(items: list) -> list[tuple[SyncDaemon, str]]:
    out = []
    roles = set()
    for index, item in enumerate(items or []):
        if not isinstance(item, dict):
            raise InvalidInput(f"daemons[{index}] must be a dict")
        daemon, state = parse_daemon(item, index)
        if daemon.role in roles:
            raise InvalidInput(f"daemons[{index}]: the {daemon.role} daemon is declared twice")
        roles.add(daemon.role)
        out.append((daemon, state))
    return out


def with_kernel_defaults(daemon: SyncDaemon, mtu: int | None) -> SyncDaemon:
    """The daemon as the kernel will report it once started (start_sync_thread()).

    Without the interface's MTU the default maxlen is unknown and stays None.
    """
    out = SyncDaemon(**daemon.__dict__)
    if out.mcast_group is None:
        out.mcast_group = "224.0.0.81"
    out.mcast_port = out.mcast_port or 8848
    out.mcast_ttl = out.mcast_ttl or 1
    hlen = 48 if ":" in out.mcast_group else 28  # IP + UDP headers
    if out.sync_maxlen:
        out.sync_maxlen = min(
            max(out.sync_maxlen, 1024 if out.role == "backup" else 1), 65535 - hlen
        )
    elif out.role == "master":
        out.sync_maxlen = 1500 - hlen
    elif mtu is not None:
        out.sync_maxlen = min(max(mtu, 1500), 65535) - hlen
    return out


def daemon_matches(have: SyncDaemon, want: SyncDaemon) -> bool:
    """Running daemon fits the declaration; options not declared keep kernel defaults."""
    if (have.interface, have.syncid) != (want.interface, want.syncid):
        return False
    for name in ("sync_maxlen", "mcast_group", "mcast_port", "mcast_ttl"):
        wanted = getattr(want, name)
        if wanted is not None and getattr(have, name) != wanted:
            return False
    return True
