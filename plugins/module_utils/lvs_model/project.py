# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The typed model projected onto each role's plain variables (docs/topology.md).

Facts in (a :class:`schema.Model` that the checks accepted), role variables out; no
defaults are invented here, every value comes from the model's dataclasses.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.applications import (
    KNOWN,
    MEDIA_MAX_SESSIONS,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    BACKUP_PRIORITY,
    DIRECTORS_GROUP,
    MASTER_PRIORITY,
    REALSERVERS_GROUP,
    STORAGE_GROUP,
    Application,
    Model,
    NfsSettings,
    Service,
    defaults,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.values import (
    netmask_prefix,
    port_range,
    port_text,
    sync_threshold,
)


class ModelError(ValueError):
    """The model is not valid (``problems`` lists every message), or a host has no part
    of the kind asked for."""

    def __init__(self, problems):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


# -- directors -----------------------------------------------------------------------


def priorities(model: Model) -> dict[str, int]:
    vrrp = model.vrrp
    if vrrp.priorities:
        return dict(vrrp.priorities)
    directors = list(model.directors)
    master = vrrp.master or directors[0]
    others = [d for d in directors if d != master]
    return {master: MASTER_PRIORITY, **{d: BACKUP_PRIORITY - 10 * i for i, d in enumerate(others)}}


def director_vars(model: Model, host: str) -> dict:
    """The ``lvs_director_*`` variables for one director."""
    if host not in model.directors:
        raise ModelError(f"{host} is not a director")
    services = [virtual_server(model, svc) for svc in model.services]
    out = {
        "lvs_director_mode": model.mode,
        "lvs_director_vips": [
            {
                "name": v.name,
                "address": f"{v.address}/{v.prefix}",
                "interface": model.nic_on(host, v.segment).name,
            }
            for v in model.vips
        ],
        "lvs_director_virtual_servers": services,
        "lvs_director_fwmark_rules": fwmark_rules(model, host),
        "lvs_director_fwmark_local": local_marks(model),
        "lvs_director_sync_daemon": _sync(model, host),
        "lvs_director_timeouts": dict(model.timeouts),
        "lvs_director_sysctls": _sysctls(model),
        "lvs_director_vrrp_instances": [],
    }
    if model.mode == "keepalived" and model.vrrp is not None:
        out["lvs_director_vrrp_instances"] = _vrrp_instances(model, host)
    return out


def _vrrp_instances(model: Model, host: str) -> list[dict]:
    vrrp = model.vrrp
    prios = priorities(model)
    master = max(prios, key=prios.get)
    # keepalived honours preempt_delay and nopreempt only from an initial BACKUP state
    state = "MASTER" if host == master and vrrp.preempt and not vrrp.preempt_delay else "BACKUP"
    peers = vrrp.unicast_peers or model.directors
    out = []
    for inst in vrrp.instances:
        nic = model.nic_on(host, inst.segment)
        out.append(
            {
                "name": inst.name,
                "interface": nic.name,
                "state": state,
                "priority": prios[host],
                "virtual_router_id": inst.virtual_router_id,
                "version": vrrp.version,
                "advert_int": vrrp.advert_int,
                "preempt": vrrp.preempt,
                "preempt_delay": vrrp.preempt_delay,
                "unicast_src_ip": nic.ip if vrrp.unicast else None,
                "unicast_peers": [model.nic_on(p, inst.segment).ip for p in peers if p != host]
                if vrrp.unicast
                else [],
                "auth": {"type": vrrp.auth.type, "pass": vrrp.auth.password} if vrrp.auth else None,
                "virtual_ipaddresses": [
                    {"address": f"{v.address}/{v.prefix}", "interface": nic.name}
                    for v in model.vips
                    if v.segment == inst.segment
                ],
            }
        )
    return out


def virtual_server(model: Model, svc: Service) -> dict:
    vip = model.vip[svc.vip]
    fwmark = svc.fwmark
    persistence = svc.persistence
    netmask = None
    if persistence and persistence.netmask is not None:
        prefix = netmask_prefix(persistence.netmask, vip.ip.version == 6)
        netmask = (
            str(ipaddress.ip_network(f"0.0.0.0/{prefix}").netmask)
            if vip.ip.version == 4
            else prefix
        )
    sorry = None
    if svc.sorry_server:
        port = svc.sorry_server.port if svc.sorry_server.port is not None else svc.port
        sorry = {"address": svc.sorry_server.address, "port": None if fwmark else port}
    return {
        "name": svc.name,
        "address": None if fwmark is not None else vip.address,
        "vip": vip.name,
        "protocol": None if fwmark is not None else svc.protocol,
        "port": None if fwmark is not None else svc.port,
        "fwmark": fwmark,
        "family": f"ipv{vip.ip.version}",
        "scheduler": svc.scheduler,
        "method": svc.method,
        "persistence_timeout": persistence.timeout if persistence else None,
        "persistence_netmask": netmask,
        "quorum": svc.quorum,
        "sorry_server": sorry,
        "inhibit_on_failure": svc.inhibit_on_failure,
        "check": dataclasses.asdict(svc.check) if svc.check else None,
        "real_servers": [
            {
                "name": rs.host,
                "address": rs.nic.ip,
                "port": None if fwmark is not None else (rs.port or svc.port),
                "weight": rs.weight,
            }
            for rs in svc.real_servers
        ],
    }


def fwmark_rules(model: Model, host: str) -> list[dict]:
    """The director's marks: packets to the VIP, or (a transparent match) packets to the
    match's destinations that arrive on the director's interface on the VIP's segment."""
    rules = []
    for svc in model.services:
        if svc.fwmark is None:
            continue
        vip = model.vip[svc.vip]
        for match in svc.fwmark_match:
            rule = {
                "fwmark": svc.fwmark,
                "protocol": match.protocol,
                "port": port_text(*port_range(match.port)),
            }
            if not match.destinations:
                rules.append({**rule, "address": vip.address})
            interface = model.nic_on(host, vip.segment).name
            rules += [
                {**rule, "address": net, "interface": interface} for net in match.destinations
            ]
    return rules


def local_marks(model: Model) -> list[int]:
    """Marks of the transparent services, which the directors deliver locally."""
    return [
        svc.fwmark
        for svc in model.services
        if svc.fwmark is not None and any(m.destinations for m in svc.fwmark_match)
    ]


def _sync(model: Model, host: str):
    sync = model.sync
    if sync is None or not sync.enabled:
        return None
    out = {"interface": model.nic_on(host, sync.segment).name, "syncid": sync.syncid}
    if sync.maxlen is not None:
        out["sync_maxlen"] = sync.maxlen
    return out


def _sysctls(model: Model) -> dict:
    out = {}
    for key, value in model.sysctls:
        if key == "sync_threshold":
            value = " ".join(str(p) for p in sync_threshold(value))
        out[f"net.ipv4.vs.{key}"] = value
    if any(s.method == "nat" for s in model.services):
        out["net.ipv4.ip_forward"] = 1
    return out


# -- real servers ----------------------------------------------------------------------


def pools_of(model: Model, host: str) -> list[Service]:
    """The services that have this host in their pool."""
    return [s for s in model.services if any(rs.host == host for rs in s.real_servers)]


def realserver_vars(model: Model, host: str) -> dict:
    """The ``lvs_realserver_*`` variables for one real server."""
    entries: dict[tuple, dict] = {}
    nat_source = None
    for svc in pools_of(model, host):
        vip = model.vip[svc.vip]
        if svc.method == "nat":
            nat_source = next(rs for rs in svc.real_servers if rs.host == host).nic
            continue
        entry = entries.setdefault(
            (vip.address, svc.method),
            {"address": vip.address, "method": svc.method, "services": []},
        )
        entry["services"].append(svc.name)
    gateway = model.nat_gateway
    nat = None
    if nat_source is not None and gateway is not None:
        nat = {
            "gateway": gateway.address,
            "interface": nat_source.name,
            "source": nat_source.ip,
            "network": str(model.segment[gateway.segment].network),
        }
    return {"lvs_realserver_vips": list(entries.values()), "lvs_realserver_nat": nat}


# -- shared storage ----------------------------------------------------------------------


def storage_vars(model: Model, host: str) -> dict:
    """nfs_server_*, nfs_client_* and glusterfs_* variables for any host."""
    out = {
        "nfs_server_exports": [],
        "nfs_server_version": defaults(NfsSettings)["version"],
        "nfs_client_mounts": [],
        "glusterfs_volumes": [],
        "glusterfs_mounts": [],
        "glusterfs_peers": [],
        "glusterfs_primary": False,
        "glusterfs_brick": None,
    }
    storage = model.storage
    if storage is None:
        return out
    nodes = model.group(STORAGE_GROUP)
    segment = storage.segment
    if storage.backend == "nfs":
        version = str(storage.nfs.version)
        out["nfs_server_version"] = version
        server = nodes[0]
        if host == server:
            out["nfs_server_exports"] = [
                {
                    "name": s.name,
                    "path": s.export,
                    "clients": [model.nic_on(c, segment).ip for c in s.client_hosts],
                    "options": list(s.export_options),
                    **({"owner": s.export_owner} if s.export_owner else {}),
                    **({"group": s.export_group} if s.export_group else {}),
                }
                for s in storage.shares
            ]
        out["nfs_client_mounts"] = [
            {
                "name": s.name,
                "source": f"{model.nic_on(server, segment).ip}:{s.export}",
                "path": s.mount,
                "version": version,
                "options": list(s.mount_options),
            }
            for s in storage.shares
            if host in s.client_hosts
        ]
        return out
    gl = storage.glusterfs
    addresses = [model.nic_on(n, segment).ip for n in nodes]
    if host in nodes:
        out["glusterfs_peers"] = addresses
        out["glusterfs_primary"] = host == nodes[0]
        out["glusterfs_brick"] = {
            "device": gl.brick_device,
            "filesystem": gl.brick_filesystem,
            "mount": gl.brick_mount,
        }
        out["glusterfs_volumes"] = [
            {
                "name": s.name,
                "replica": gl.replica + int(gl.arbiter),
                "arbiter": int(gl.arbiter),
                "bricks": [f"{a}:{gl.brick_mount}/{s.name}/brick" for a in addresses],
                "force": gl.force,
                "options": dict(s.options),
            }
            for s in storage.shares
        ]
    out["glusterfs_mounts"] = [
        {
            "name": s.name,
            "volume": s.name,
            "servers": addresses,
            "path": s.mount,
            "options": list(s.mount_options),
        }
        for s in storage.shares
        if host in s.client_hosts
    ]
    return out


# -- applications ------------------------------------------------------------------------


def application_vars(model: Model, host: str, controller: dict | None = None) -> list[dict]:
    """Each application of the collection on this host: {name, role, vars}, in order."""
    out = []
    for app in model.applications:
        if not app.managed or host not in app.host_names:
            continue
        spec = KNOWN[app.role]
        ports = dict(app.ports)
        variables = {p.variable: p.value(ports.get(p.name)) for p in spec.ports}
        mounts = {s.name: s.mount for s in model.storage.shares} if model.storage else {}
        purposes = dict(spec.shares)
        for purpose, share in app.shares:
            variables[purposes[purpose]] = mounts[share]
        variables.update(_EXTRA.get(app.role, _no_extra)(model, app, host, controller or {}))
        variables.update(dict(app.settings))
        out.append({"name": app.name, "role": spec.role, "vars": variables})
    return out


def _no_extra(model, app, host, controller) -> dict:
    return {}


def _web_vars(model: Model, app: Application, host: str, controller: dict) -> dict:
    shared = any(purpose == "document_root" for purpose, _ in app.shares)
    addresses = [model.vip[s.vip].address for s in pools_of(model, host) if s.fwmark is None]
    addresses += [nic.ip for nic in model.host_nics.get(host, ())]
    out = {
        "web_document_root_shared": shared,
        # certificates name every address the host is reached on: its VIPs (NAT VIPs
        # too, which never sit on the host) and its own
        "web_tls_addresses": list(dict.fromkeys(addresses)),
    }
    # one CA per cluster, kept on the controller
    if controller.get("pki_dir"):
        out["web_pki_dir"] = controller["pki_dir"]
    elif controller.get("pki_root"):
        out["web_pki_dir"] = f"{controller['pki_root']}/{model.cluster_name}"
    return out


def _media_vars(model: Model, app: Application, host: str, controller: dict) -> dict:
    # RTP leaves from the address the clients sent RTSP to: the VIP of the (DR or TUN)
    # service that has this server in its pool, the fwmark one first
    services = sorted(
        (s for s in pools_of(model, host) if s.method != "nat"), key=lambda s: s.fwmark is None
    )
    address = model.vip[services[0].vip].address if services else model.host_nics[host][0].ip
    return {
        "media_rtp_address": str(address),
        "media_root_shared": any(purpose == "media" for purpose, _ in app.shares),
        "media_max_sessions": MEDIA_MAX_SESSIONS,
    }


def _cache_vars(model: Model, app: Application, host: str, controller: dict) -> dict:
    # ICP siblings: the other hosts of this application, at their first address; the
    # directors (their health checks) may use the plain proxy port too
    def address(name: str) -> str:
        return str(model.host_nics[name][0].ip)

    return {
        "cache_peers": [
            {"name": peer, "address": address(peer)} for peer in app.host_names if peer != host
        ],
        "cache_allowed_sources": [
            str(nic.ip) for director in model.directors for nic in model.host_nics[director]
        ],
    }


_EXTRA = {"web": _web_vars, "media": _media_vars, "cache": _cache_vars}


# -- what a host must be able to do -----------------------------------------------------


def capabilities_wanted(model: Model, host: str) -> dict:
    """{modules: {name: why}, interfaces: [names], marks: bool} for the capability check."""
    modules: dict[str, str] = {}
    if host in model.group(DIRECTORS_GROUP):
        modules["ip_vs"] = "IPVS"
        for scheduler in sorted({s.scheduler for s in model.services}):
            modules[f"ip_vs_{scheduler}"] = f"the {scheduler} scheduler of a service"
    methods = {s.method for s in pools_of(model, host)}
    if "dr" in methods:
        modules["dummy"] = "the non-ARP device of the DR VIPs"
    if "tun" in methods:
        modules["ipip"] = "the tunnel of the TUN VIPs"
    storage = model.storage
    if storage is not None:
        clients = {h for s in storage.shares for h in s.client_hosts}
        servers = model.group(STORAGE_GROUP)
        if storage.backend == "nfs":
            if host in servers[:1]:
                modules["nfsd"] = "the NFS server"
            if host in clients:
                modules["nfsv4"] = "the NFS mounts"
        elif host in clients:
            modules["fuse"] = "the GlusterFS mounts"
    marks = host in model.directors and any(s.fwmark is not None for s in model.services)
    return {
        "modules": modules,
        "interfaces": [nic.name for nic in model.host_nics.get(host, ())],
        "marks": marks,
    }


# -- every host ----------------------------------------------------------------------------


def host_vars(model: Model, host: str, controller: dict | None = None) -> dict:
    """Every role variable of one host: director, real server, storage, applications."""
    out = storage_vars(model, host)
    if host in model.group(DIRECTORS_GROUP):
        out.update(director_vars(model, host))
    if host in model.group(REALSERVERS_GROUP):
        out.update(realserver_vars(model, host))
    out["lvs_applications"] = application_vars(model, host, controller)
    out["lvs_capabilities"] = capabilities_wanted(model, host)
    return out
