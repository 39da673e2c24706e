# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the director tier: the mode, the groups, VRRP and its instances."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.inventory import Inventory
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    AUTH_TYPES,
    DIRECTORS_GROUP,
    MODES,
    NAME_RE,
    REALSERVERS_GROUP,
    VRRP_INSTANCE_KEYS,
    VRRP_VERSIONS,
    Model,
    Vrrp,
    defaults,
    keys,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.values import is_int, is_num

VRRP_KEYS = keys(Vrrp)
MODEL = defaults(Model)


def check_mode(ctx: Inventory) -> None:
    if "topology" in ctx.raw:
        ctx.err(
            "lvs_topology is no longer read: the applications in lvs_applications say what "
            "the cluster runs; name the cluster with lvs_cluster_name"
        )
    name = ctx.raw.get("cluster_name", MODEL["cluster_name"])
    if not isinstance(name, str) or not NAME_RE.match(name):
        ctx.err(f"lvs_cluster_name {name!r} must be a name (letters, digits, '.', '_', '-')")
    mode = ctx.raw.get("mode", MODEL["mode"])
    if mode not in MODES:
        ctx.err(f"lvs_mode {mode!r} is unknown (known: {', '.join(MODES)})")
        mode = MODEL["mode"]
    ctx.mode = mode


def check_groups(ctx: Inventory) -> None:
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


def check_vrrp(ctx: Inventory) -> None:
    raw = ctx.raw.get("vrrp")
    if raw is None:
        if ctx.raw.get("vips"):
            ctx.err("lvs_vrrp is missing: keepalived mode needs VRRP settings for its VIPs")
        return
    if not isinstance(raw, Mapping):
        ctx.err("lvs_vrrp must be a mapping")
        return
    ctx.unknown_keys("lvs_vrrp", raw, VRRP_KEYS)
    vrrp = {**defaults(Vrrp), **raw}
    directors = ctx.directors()
    version = vrrp["version"]
    if version not in VRRP_VERSIONS:
        ctx.err(f"vrrp: version {version!r} must be 2 or 3")
    advert = vrrp["advert_int"]
    if not is_num(advert) or advert <= 0:
        ctx.err(f"vrrp: advert_int {advert!r} must be a number of seconds above 0")
    elif version == 2 and (advert != int(advert)):
        ctx.err(f"vrrp: advert_int {advert} is sub-second, which needs VRRP version 3")
    if not isinstance(vrrp["preempt"], bool):
        ctx.err(f"vrrp: preempt {vrrp['preempt']!r} must be true or false")
    delay = vrrp["preempt_delay"]
    if not is_num(delay) or not 0 <= delay <= 1000:
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


def _check_priorities(ctx: Inventory, vrrp: Mapping, directors: list[str]) -> None:
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
        if not is_int(prio) or not 1 <= prio <= 254:
            ctx.err(f"vrrp: priority {prio!r} of {host} must be 1..254")
    for host in directors:
        if host not in priorities:
            ctx.err(f"vrrp: director {host} has no priority")
    values = [p for p in priorities.values() if is_int(p)]
    if len(values) != len(set(values)):
        ctx.err(f"vrrp: priorities are equal ({priorities}): the master would be chosen by address")
    if master is not None and master in priorities and values and priorities[master] != max(values):
        ctx.err(f"vrrp: master {master} does not have the highest priority")


def _check_instances(ctx: Inventory, instances, directors: list[str]) -> None:
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
        ctx.unknown_keys(what, inst, VRRP_INSTANCE_KEYS)
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
        if not is_int(vrid) or not 1 <= vrid <= 255:
            ctx.err(f"{what}: virtual_router_id {vrid!r} must be 1..255")
        elif (segment, vrid) in seen_ids:
            ctx.err(
                f"{what}: virtual_router_id {vrid} is already used by "
                f"{seen_ids[(segment, vrid)]} on segment {segment}"
            )
        else:
            seen_ids[(segment, vrid)] = name
