# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A checked model (plain data) into the frozen :class:`schema.Model`.

Runs only on a model the checks accepted, so it reports nothing: every default comes
from the dataclasses, every reference (a VIP by address, a real server's interface, a
share's client groups) is resolved here once.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model import check_services
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.inventory import Inventory
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    HTTP_CHECK_DEFAULTS,
    MISC_CHECK_DEFAULTS,
    Application,
    Check,
    FwmarkMatch,
    GlusterSettings,
    Listen,
    Model,
    NfsSettings,
    Persistence,
    RealServer,
    Service,
    Share,
    SorryServer,
    Storage,
    Sync,
    Vip,
    Vrrp,
    VrrpAuth,
    VrrpInstance,
    defaults,
)

_TUPLES = (list, tuple)


def _frozen(value):
    """Lists and mappings of the raw model as tuples (items of a mapping as pairs)."""
    if isinstance(value, Mapping):
        return tuple((str(k), _frozen(v)) for k, v in value.items())
    if isinstance(value, _TUPLES):
        return tuple(_frozen(v) for v in value)
    return value


def _networks(values) -> list[str]:
    """Networks in canonical text ("198.18.0.0/15"), each once."""
    return list(dict.fromkeys(str(ipaddress.ip_network(str(v))) for v in values))


def _names(value) -> tuple[str, ...]:
    """A host or group name, or a list of them, as a tuple."""
    return (value,) if isinstance(value, str) else tuple(value)


def build(cls, raw: Mapping | None, **resolved):
    """An instance of cls from the raw entry's known keys, with resolved fields."""
    names = {f.name for f in dataclasses.fields(cls)}
    values = {k: _frozen(v) for k, v in (raw or {}).items() if k in names}
    values.update(resolved)
    return cls(**values)


def parse(raw: Mapping, inv: Inventory, vips: Mapping[str, dict]) -> Model:
    """The typed model; ``vips`` are the checked VIPs (check_services.check_vips)."""
    return build(
        Model,
        raw,
        segments=tuple(inv.segments.values()),
        vrrp=_vrrp(raw.get("vrrp"), inv) if raw.get("vrrp") else None,
        vips=tuple(_vip(v) for v in vips.values()),
        services=tuple(_service(s, inv, vips) for s in raw.get("services") or []),
        sync=build(Sync, raw["sync"]) if raw.get("sync") else None,
        storage=_storage(raw["storage"], inv) if raw.get("storage") else None,
        applications=tuple(
            _application(name, entry, inv)
            for name, entry in (raw.get("applications") or {}).items()
        ),
        hosts=tuple((name, tuple(nics)) for name, nics in inv.hosts.items()),
        groups=tuple((name, tuple(members)) for name, members in inv.groups.items()),
    )


def _vrrp(raw: Mapping, inv: Inventory) -> Vrrp:
    auth = raw.get("auth")
    return build(
        Vrrp,
        raw,
        directors=tuple(inv.directors()),
        instances=tuple(build(VrrpInstance, i) for i in raw.get("instances") or []),
        auth=VrrpAuth(type=auth["type"], password=auth["pass"]) if auth else None,
    )


def _vip(checked: dict) -> Vip:
    return Vip(
        name=checked["name"],
        address=str(checked["address"]),
        segment=checked["segment"],
        nat_gateway=checked["nat_gateway"],
        ip=checked["address"],
        prefix=checked["prefix"],
    )


def _resolved_vip(ref, vips: Mapping[str, dict]) -> dict:
    if ref in vips:
        return vips[ref]
    return next(v for v in vips.values() if str(v["address"]) == str(ref))


def _check(raw: Mapping | None) -> Check | None:
    if not raw:
        return None
    by_type = {}
    if raw["type"] in ("HTTP_GET", "SSL_GET"):
        by_type = dict(HTTP_CHECK_DEFAULTS)
        # keepalived requires both when both are given: a digest alone is the test
        if raw.get("digest"):
            by_type["status_code"] = None
    elif raw["type"] == "MISC_CHECK":
        by_type = MISC_CHECK_DEFAULTS
    return build(Check, {**by_type, **raw})


def _service(raw: Mapping, inv: Inventory, vips: Mapping[str, dict]) -> Service:
    vip = _resolved_vip(raw["vip"], vips)
    method = raw.get("method", defaults(Service)["method"])
    sorry = raw.get("sorry_server")
    if isinstance(sorry, str):
        sorry = {"address": sorry}
    real_servers = []
    for rs in raw["real_servers"]:
        nic, _ = check_services.rs_nic(inv, rs["host"], rs, method, vip, vips)
        real_servers.append(build(RealServer, rs, nic=nic))
    return build(
        Service,
        raw,
        vip=vip["name"],
        real_servers=tuple(real_servers),
        fwmark_match=tuple(
            build(FwmarkMatch, m, destinations=tuple(_networks(m.get("destinations") or [])))
            for m in raw.get("fwmark_match") or []
        ),
        persistence=build(Persistence, raw["persistence"]) if raw.get("persistence") else None,
        check=_check(raw.get("check")),
        sorry_server=build(SorryServer, sorry) if sorry else None,
    )


def _storage(raw: Mapping, inv: Inventory) -> Storage:
    shares = tuple(
        build(
            Share,
            s,
            clients=_names(s["clients"]),
            client_hosts=tuple(inv.expand(f"share {s['name']}: clients", s["clients"])),
        )
        for s in raw["shares"]
    )
    return build(
        Storage,
        raw,
        shares=shares,
        nfs=build(NfsSettings, raw.get("nfs")),
        glusterfs=build(GlusterSettings, raw.get("glusterfs")),
    )


def _application(name: str, raw: Mapping, inv: Inventory) -> Application:
    managed = raw.get("managed", True)
    return build(
        Application,
        raw,
        name=name,
        role=(raw.get("role") or name) if managed else None,
        hosts=_names(raw["hosts"]),
        listen=tuple(build(Listen, item) for item in raw.get("listen") or []),
        host_names=tuple(inv.expand(f"application {name}: hosts", raw["hosts"])),
    )
