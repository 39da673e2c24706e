# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared storage in the topology model (``lvs_storage``, ``lvs_web``).

The real servers' content lives on shared storage, so a file written once is served
by every server. ``lvs_storage`` picks the backend (``nfs`` or ``glusterfs``), the
segment storage traffic uses, and the shares with the hosts that mount them; the
storage servers are the inventory's ``storage`` group.
``lvs_web.document_root_share`` names the share the web servers serve.

Pure and stdlib only. ``check(ctx)`` adds problems to the topology validator's
context (lvs_topology._Context); ``storage_vars(ctx, host)`` hands one host the plain
variables of the nfs_server, nfs_client, glusterfs and web roles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

BACKENDS = ("nfs", "glusterfs")
STORAGE_GROUP = "storage"
NFS_VERSIONS = ("4", "4.0", "4.1", "4.2")
BRICK_FILESYSTEMS = ("xfs", "ext4")
STORAGE_KEYS = {"backend", "segment", "shares", "nfs", "glusterfs"}
NFS_KEYS = {"version"}
GLUSTERFS_KEYS = {"replica", "arbiter", "brick_device", "brick_filesystem", "brick_mount", "force"}
SHARE_KEYS = {
    "name",
    "mount",
    "clients",
    "export",
    "export_options",
    "export_owner",
    "export_group",
    "mount_options",
    "options",
}
WEB_KEYS = {"document_root_share"}
# gluster volume names: letters, digits, '-' and '_'
SHARE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# an export option or a mount option: no blanks, commas or parentheses
OPTION_RE = re.compile(r"^[A-Za-z0-9_.=:/-]+$")
DEVICE_RE = re.compile(r"^/dev/[A-Za-z0-9/_.-]+$")

NFS_DEFAULTS = {"version": "4.2"}
GLUSTERFS_DEFAULTS = {
    "replica": 3,
    "arbiter": False,
    "brick_device": None,
    "brick_filesystem": "xfs",
    "brick_mount": "/srv/gluster",
    "force": False,
}
EXPORT_OPTIONS = ["rw", "sync", "no_subtree_check", "root_squash"]


def _abs_path(value) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("/")
        and "//" not in value
        and (value == "/" or not value.endswith("/"))
        and not re.search(r"(^|/)\.\.?(/|$)", value)
        and not re.search(r"\s", value)
    )


def _names(value) -> list:
    if isinstance(value, str):
        return [value]
    return list(value) if isinstance(value, (list, tuple)) else []


def _expand(ctx, what: str, value) -> list[str]:
    """Host and group names -> host names, in order; unknown names reported."""
    hosts: list[str] = []
    if not isinstance(value, (str, list, tuple)) or not _names(value):
        ctx.err(f"{what}: must name hosts or groups of the inventory")
        return hosts
    for name in _names(value):
        if not isinstance(name, str):
            ctx.err(f"{what}: {name!r} is not a host or group name")
        elif name in ctx.groups and name != "all":
            hosts.extend(h for h in ctx.group(name) if h not in hosts)
        elif name in ctx.hosts:
            if name not in hosts:
                hosts.append(name)
        else:
            ctx.err(f"{what}: unknown host or group {name!r}")
    return hosts


def _model(ctx) -> Mapping | None:
    storage = ctx.model.get("storage")
    return storage if isinstance(storage, Mapping) else None


def _options(ctx, what: str, value) -> None:
    if not isinstance(value, list) or not all(
        isinstance(o, str) and OPTION_RE.match(o) for o in value
    ):
        ctx.err(f"{what}: must be a list of options such as [rw, sync] (no blanks or commas)")


# ---------------------------------------------------------------------------------
# validation


def check(ctx) -> None:
    """Report every problem of lvs_storage and lvs_web in ``ctx``."""
    raw = ctx.model.get("storage")
    if raw is None:
        _check_web(ctx, {})
        return
    if not isinstance(raw, Mapping):
        ctx.err("lvs_storage must be a mapping (backend, segment, shares, ...)")
        return
    ctx.unknown_keys("lvs_storage", raw, STORAGE_KEYS)
    backend = raw.get("backend")
    if backend not in BACKENDS:
        ctx.err(f"lvs_storage.backend {backend!r} must be one of {', '.join(BACKENDS)}")
        return
    segment = raw.get("segment")
    if segment not in ctx.segments:
        ctx.err(f"lvs_storage.segment {segment!r} is not a segment of lvs_segments")
        return
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
    shares = _check_shares(ctx, raw, backend, segment)
    _check_web(ctx, shares)


def _check_nfs(ctx, raw: Mapping, nodes: list[str]) -> None:
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


def _check_glusterfs(ctx, raw: Mapping, nodes: list[str]) -> None:
    gl = raw.get("glusterfs") or {}
    if not isinstance(gl, Mapping):
        ctx.err("lvs_storage.glusterfs must be a mapping (replica, arbiter, brick_device, ...)")
        return
    ctx.unknown_keys("lvs_storage.glusterfs", gl, GLUSTERFS_KEYS)
    if "nfs" in raw:
        ctx.err("lvs_storage: nfs settings given but the backend is glusterfs")
    gl = {**GLUSTERFS_DEFAULTS, **gl}
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
    if not _abs_path(gl["brick_mount"]) or gl["brick_mount"] == "/":
        ctx.err(f"lvs_storage.glusterfs.brick_mount {gl['brick_mount']!r} must be an absolute path")
    if not isinstance(gl["force"], bool):
        ctx.err("lvs_storage.glusterfs.force must be true or false")


def _check_shares(ctx, raw: Mapping, backend: str, segment: str) -> dict[str, dict]:
    shares = raw.get("shares")
    found: dict[str, dict] = {}
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
        if not _abs_path(mount) or mount == "/":
            ctx.err(f"{what}: mount {mount!r} must be an absolute path")
        elif mount in mounts:
            ctx.err(f"{what}: mount {mount} is also share {mounts[mount]}'s")
        else:
            mounts[mount] = name
        clients = _expand(ctx, f"{what}: clients", share.get("clients"))
        for client in clients:
            if client in ctx.hosts and ctx.nic_on(client, segment) is None:
                ctx.err(f"{what}: client {client} has no interface on segment {segment}")
        if share.get("mount_options") is not None:
            _options(ctx, f"{what}: mount_options", share["mount_options"])
        if backend == "nfs":
            export = share.get("export")
            if not _abs_path(export) or export == "/":
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
            found.setdefault(name, {"clients": clients, "mount": mount})
    return found


def _check_web(ctx, shares: Mapping) -> None:
    web = ctx.model.get("web")
    if web is None:
        return
    if not isinstance(web, Mapping):
        ctx.err("lvs_web must be a mapping (document_root_share)")
        return
    ctx.unknown_keys("lvs_web", web, WEB_KEYS)
    name = web.get("document_root_share")
    if name is None:
        return
    if name not in shares:
        ctx.err(f"lvs_web.document_root_share {name!r} is not a share of lvs_storage")
        return
    for host in ctx.group("realservers"):
        if host not in shares[name]["clients"]:
            ctx.err(f"lvs_web: real server {host} does not mount share {name}")


# ---------------------------------------------------------------------------------
# role variables (the model is valid here)


def _address(ctx, host: str, segment: str) -> str:
    return str(ctx.nic_on(host, segment)[2].ip)


def storage_vars(ctx, host: str) -> dict:
    """nfs_server_*, nfs_client_*, glusterfs_* and web_* variables for one host."""
    out = {
        "nfs_server_exports": [],
        "nfs_server_version": NFS_DEFAULTS["version"],
        "nfs_client_mounts": [],
        "glusterfs_volumes": [],
        "glusterfs_mounts": [],
        "glusterfs_peers": [],
        "glusterfs_primary": False,
        "glusterfs_brick": None,
        "web_document_root": None,
    }
    raw = _model(ctx)
    if raw is None:
        return out
    backend, segment = raw["backend"], raw["segment"]
    nodes = ctx.group(STORAGE_GROUP)
    shares = raw["shares"]

    def clients_of(share):
        # the validator's own expansion: the model is valid, so it reports nothing
        return _expand(ctx, f"share {share['name']}: clients", share["clients"])

    if backend == "nfs":
        nfs = {**NFS_DEFAULTS, **(raw.get("nfs") or {})}
        version = str(nfs["version"])
        out["nfs_server_version"] = version
        server = nodes[0]
        if host == server:
            out["nfs_server_exports"] = [
                {
                    "name": s["name"],
                    "path": s["export"],
                    "clients": [_address(ctx, c, segment) for c in clients_of(s)],
                    "options": list(s.get("export_options") or EXPORT_OPTIONS),
                    **({"owner": s["export_owner"]} if s.get("export_owner") else {}),
                    **({"group": s["export_group"]} if s.get("export_group") else {}),
                }
                for s in shares
            ]
        out["nfs_client_mounts"] = [
            {
                "name": s["name"],
                "source": f"{_address(ctx, server, segment)}:{s['export']}",
                "path": s["mount"],
                "version": version,
                "options": list(s.get("mount_options") or []),
            }
            for s in shares
            if host in clients_of(s)
        ]
    else:
        gl = {**GLUSTERFS_DEFAULTS, **(raw.get("glusterfs") or {})}
        addresses = [_address(ctx, n, segment) for n in nodes]
        if host in nodes:
            out["glusterfs_peers"] = addresses
            out["glusterfs_primary"] = host == nodes[0]
            out["glusterfs_brick"] = {
                "device": gl["brick_device"],
                "filesystem": gl["brick_filesystem"],
                "mount": gl["brick_mount"],
            }
            out["glusterfs_volumes"] = [
                {
                    "name": s["name"],
                    "replica": gl["replica"] + int(gl["arbiter"]),
                    "arbiter": int(gl["arbiter"]),
                    "bricks": [f"{a}:{gl['brick_mount']}/{s['name']}/brick" for a in addresses],
                    "force": gl["force"],
                    "options": {str(k): v for k, v in (s.get("options") or {}).items()},
                }
                for s in shares
            ]
        out["glusterfs_mounts"] = [
            {
                "name": s["name"],
                "volume": s["name"],
                "servers": addresses,
                "path": s["mount"],
                "options": list(s.get("mount_options") or []),
            }
            for s in shares
            if host in clients_of(s)
        ]
    web = ctx.model.get("web") or {}
    if web.get("document_root_share"):
        share = next(s for s in shares if s["name"] == web["document_root_share"])
        if host in clients_of(share):
            out["web_document_root"] = share["mount"]
    return out
