# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the directors' kernel settings: connection sync, timeouts, sysctls."""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.inventory import Inventory
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    SYSCTLS,
    TIMEOUT_KEYS,
    Sync,
    defaults,
    keys,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.values import (
    is_int,
    sync_threshold,
)

SYNC = defaults(Sync)
SYNC_KEYS = keys(Sync)


def check_sync(ctx: Inventory) -> None:
    sync = ctx.raw.get("sync")
    if sync is None:
        return
    if not isinstance(sync, Mapping):
        ctx.err("lvs_sync must be a mapping {enabled, segment, syncid}")
        return
    ctx.unknown_keys("lvs_sync", sync, SYNC_KEYS)
    if not sync.get("enabled", SYNC["enabled"]):
        return
    segment = sync.get("segment")
    if segment not in ctx.segments:
        ctx.err(f"sync daemon: unknown segment {segment!r}")
    else:
        for host in ctx.directors():
            if host in ctx.hosts and not ctx.nic_on(host, segment):
                ctx.err(f"sync daemon: director {host} has no interface on segment {segment}")
    syncid = sync.get("syncid", SYNC["syncid"])
    if not is_int(syncid) or not 0 <= syncid <= 255:
        ctx.err(f"sync daemon: syncid {syncid!r} must be 0..255")
    maxlen = sync.get("maxlen")
    if maxlen is not None and (not is_int(maxlen) or not 1 <= maxlen <= 65535):
        ctx.err(f"sync daemon: maxlen {maxlen!r} must be 1..65535")
    _check_sync_version(ctx)


def _check_sync_version(ctx: Inventory) -> None:
    """Sync protocol version 0 carries neither fwmark connections nor persistence
    templates: after a takeover such clients would land on any server."""
    sysctls = ctx.raw.get("sysctls")
    if not isinstance(sysctls, Mapping) or sysctls.get("sync_version") != 0:
        return
    services = ctx.raw.get("services") if isinstance(ctx.raw.get("services"), list) else []
    for svc in services:
        if not isinstance(svc, Mapping):
            continue
        needs = [k for k in ("fwmark", "persistence") if svc.get(k) is not None]
        if needs:
            ctx.err(
                f"service {svc.get('name')}: sync_version 0 does not sync {' or '.join(needs)} "
                "connections (version 1, the default, does)"
            )


def check_timeouts(ctx: Inventory) -> None:
    timeouts = ctx.raw.get("timeouts")
    if timeouts is None:
        return
    if not isinstance(timeouts, Mapping):
        ctx.err("lvs_timeouts must be a mapping {tcp, tcp_fin, udp}")
        return
    for key, value in timeouts.items():
        if key not in TIMEOUT_KEYS:
            ctx.err(f"timeout {key}: unknown (known: {', '.join(TIMEOUT_KEYS)})")
        elif not is_int(value) or value < 0:
            ctx.err(f"timeout {key}: {value!r} must be a number of seconds, 0 or more")


def check_sysctls(ctx: Inventory) -> None:
    sysctls = ctx.raw.get("sysctls")
    if sysctls is None:
        return
    if not isinstance(sysctls, Mapping):
        ctx.err("lvs_sysctls must be a mapping of net.ipv4.vs.* names to values")
        return
    for key, value in sysctls.items():
        if key not in SYSCTLS:
            ctx.err(f"sysctl net.ipv4.vs.{key}: unknown (known: {', '.join(sorted(SYSCTLS))})")
        elif key == "sync_threshold":
            if sync_threshold(value) is None:
                ctx.err(
                    f"sysctl net.ipv4.vs.sync_threshold: {value!r} must be two integers "
                    "[threshold, period] with 0 <= threshold < period, or period 0"
                )
        else:
            low, high = SYSCTLS[key]
            if not is_int(value) or not low <= value <= high:
                ctx.err(f"sysctl net.ipv4.vs.{key}: {value!r} must be {low}..{high}")
