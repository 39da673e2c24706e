# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of the shared storage (lvs_storage): backend, servers, shares and their clients.

The storage servers are the inventory's ``storage`` group. Which application uses which
share is checked with the applications (check_applications).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.inventory import Inventory
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    BACKENDS,
    BRICK_FILESYSTEMS,
    DEVICE_RE,
    NFS_VERSIONS,
    OPTION_RE,
    SHARE_NAME_RE,
    STORAGE_GROUP,
    GlusterSettings,
    NfsSettings,
    Share,
    Storage,
    defaults,
    keys,
)

STORAGE_KEYS = keys(Storage)
NFS_KEYS = keys(NfsSettings)
GLUSTERFS_KEYS = keys(GlusterSettings)
SHARE_KEYS = keys(Share)


def abs_path(value) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("/")
        and "//" not in value
        and (value == "/" or not value.endswith("/"))
        and not re.search(r"(^|/)\.\.?(/|$)", value)
        and not re.search(r"\s", value)
    )


def _options(ctx: Inventory, what: str, value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(o, str) and OPTION_RE.match(o) for o in value
    ):
        ctx.err(f"{what}: must be a list of options such as [rw, sync] (no blanks or commas)")


# ---------------------------------------------------------------------------------
# validation


def check_storage(ctx: Inventory) -> dict[str, list[str]]:
    """Report every problem of lvs_storage; return each sound share's client hosts."""
    raw = ctx.raw.get("storage")
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        ctx.err("lvs_storage must be a mapping (backend, segment, shares, ...)")
        return {}
    ctx.unknown_keys("lvs_storage", raw, STORAGE_KEYS)
    backend = raw.get("backend")
    if backend not in BACKENDS:
        ctx.err(f"lvs_storage.backend {backend!r} must be one of {', '.join(BACKENDS)}")
        return {}
    segment = raw.get("segment")
    if segment not in ctx.segments:
        ctx.err(f"lvs_storage.segment {segment!r} is not a segment of lvs_segments")
        return {}
    nodes = ctx.group(STORAGE_GROUP)
    if not nodes:
        ctx.err("lvs_storage: no storage servers: put them in the inventory's 'storage' group")
    for node in nodes:
        if node in ctx.hosts and ctx.nic_on(node, segment) is None:
            ctx.err(f"storage server {node}: has no interface on segment {segment}")
    if backend == "nfs":
        _check_nfs(ctx, raw, nodes)
    else:
        _check_glusterfs(ctx, raw, nodes)
    return _check_shares(ctx, raw, backend, segment)


def _check_nfs(ctx: Inventory, raw: Mapping, nodes: list[str]) -> None:
    if len(nodes) > 1:
        ctx.err(
            f"lvs_storage: the nfs backend has one server, the model names {len(nodes)} "
            f"({', '.join(nodes)}); use glusterfs for replicated storage"
        )
    nfs = raw.get("nfs") or {}
    if not isinstance(nfs, Mapping):
        ctx.err("lvs_storage.nfs must be a mapping (version)")
        return
    ctx.unknown_keys("lvs_storage.nfs", nfs, NFS_KEYS)
    if "version" in nfs and str(nfs["version"]) not in NFS_VERSIONS:
        choices = ", ".join(NFS_VERSIONS)
        ctx.err(f"lvs_storage.nfs.version {nfs['version']!r} must be one of {choices}")
    if "glusterfs" in raw:
        ctx.err("lvs_storage: glusterfs settings given but the backend is nfs")


def _check_glusterfs(ctx: Inventory, raw: Mapping, nodes: list[str]) -> None:
    gl = raw.get("glusterfs") or {}
    if not isinstance(gl, Mapping):
        ctx.err("lvs_storage.glusterfs must be a mapping (replica, arbiter, brick_device, ...)")
        return
    ctx.unknown_keys("lvs_storage.glusterfs", gl, GLUSTERFS_KEYS)
    if "nfs" in raw:
        ctx.err("lvs_storage: nfs settings given but the backend is glusterfs")
    gl = {**defaults(GlusterSettings), **gl}
    replica, arbiter = gl["replica"], gl["arbiter"]
    if not isinstance(arbiter, bool):
        ctx.err("lvs_storage.glusterfs.arbiter must be true or false")
        return
    if not isinstance(replica, int) or isinstance(replica, bool) or not 2 <= replica <= 16:
        ctx.err(f"lvs_storage.glusterfs.replica {replica!r} must be a number of copies from 2")
        return
    if replica == 2 and not arbiter:
        ctx.err(
            "lvs_storage.glusterfs: replica 2 without an arbiter can split-brain; "
            "use replica 3, or replica 2 with arbiter: true"
        )
    width = replica + int(arbiter)
    if nodes and width > len(nodes):
        ctx.err(
            f"lvs_storage.glusterfs: replica {replica}"
            + (" plus an arbiter" if arbiter else "")
            + f" needs {width} storage servers, the model has {len(nodes)}"
        )
    elif nodes and len(nodes) % width:
        ctx.err(
            f"lvs_storage.glusterfs: {len(nodes)} storage servers do not divide into "
            f"replica sets of {width}"
        )
    device = gl["brick_device"]
    if device is None:
        if gl["force"] is not True:
            ctx.err(
                "lvs_storage.glusterfs: bricks would sit on the root file system; give "
                "brick_device (a disk of their own) or set force: true to accept that"
            )
    elif not isinstance(device, str) or not DEVICE_RE.match(device):
        ctx.err(f"lvs_storage.glusterfs.brick_device {device!r} must be a /dev path")
    if gl["brick_filesystem"] not in BRICK_FILESYSTEMS:
        ctx.err(
            f"lvs_storage.glusterfs.brick_filesystem {gl['brick_filesystem']!r} must be one "
            f"of {', '.join(BRICK_FILESYSTEMS)}"
        )
    if not abs_path(gl["brick_mount"]) or gl["brick_mount"] == "/":
        ctx.err(f"lvs_storage.glusterfs.brick_mount {gl['brick_mount']!r} must be an absolute path")
    if not isinstance(gl["force"], bool):
        ctx.err("lvs_storage.glusterfs.force must be true or false")


def _check_shares(ctx: Inventory, raw: Mapping, backend: str, segment: str) -> dict[str, list[str]]:
    shares = raw.get("shares")
    found: dict[str, list[str]] = {}
    if not isinstance(shares, list) or not shares:
        ctx.err("lvs_storage.shares: list at least one share (name, mount, clients)")
        return found
    mounts: dict[str, str] = {}
    exports: dict[str, str] = {}
    for index, share in enumerate(shares):
        if not isinstance(share, Mapping):
            ctx.err(f"lvs_storage.shares[{index}] must be a mapping")
            continue
        name = share.get("name")
        what = f"share {name}" if isinstance(name, str) else f"lvs_storage.shares[{index}]"
        ctx.unknown_keys(what, share, SHARE_KEYS)
        if not isinstance(name, str) or not SHARE_NAME_RE.match(name):
            ctx.err(f"{what}: name {name!r} must be letters, digits, '-' or '_'")
        elif name in found:
            ctx.err(f"{what}: declared twice")
        mount = share.get("mount")
        if not abs_path(mount) or mount == "/":
            ctx.err(f"{what}: mount {mount!r} must be an absolute path")
        elif mount in mounts:
            ctx.err(f"{what}: mount {mount} is also share {mounts[mount]}'s")
        else:
            mounts[mount] = name
        clients = ctx.expand(f"{what}: clients", share.get("clients"))
        for client in clients:
            if client in ctx.hosts and ctx.nic_on(client, segment) is None:
                ctx.err(f"{what}: client {client} has no interface on segment {segment}")
        if share.get("mount_options") is not None:
            _options(ctx, f"{what}: mount_options", share["mount_options"])
        if backend == "nfs":
            export = share.get("export")
            if not abs_path(export) or export == "/":
                ctx.err(f"{what}: export {export!r} must be an absolute path on the NFS server")
            elif export in exports:
                ctx.err(f"{what}: export {export} is also share {exports[export]}'s")
            else:
                exports[export] = name
            if share.get("export_options") is not None:
                _options(ctx, f"{what}: export_options", share["export_options"])
            for key in ("export_owner", "export_group"):
                if key in share and not (
                    isinstance(share[key], str) and SHARE_NAME_RE.match(share[key])
                ):
                    ctx.err(f"{what}: {key} {share[key]!r} must be a user or group name")
            if share.get("options") is not None:
                ctx.err(f"{what}: options are GlusterFS volume options; the backend is nfs")
        else:
            for key in ("export", "export_options", "export_owner", "export_group"):
                if key in share:
                    ctx.err(f"{what}: {key} is an NFS setting; the backend is glusterfs")
            options = share.get("options")
            if options is not None and (
                not isinstance(options, Mapping)
                or not all(isinstance(k, str) and OPTION_RE.match(k) for k in options)
                or not all(isinstance(v, (str, int, bool)) for v in options.values())
            ):
                ctx.err(f"{what}: options must map volume options to values")
        if isinstance(name, str):
            found.setdefault(name, clients)
    return found
