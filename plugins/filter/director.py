# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape a director's virtual servers for the lvs.cluster.ipvs module."""

from __future__ import annotations

DOCUMENTATION = r"""
name: ipvs_services
short_description: virtual servers (lvs_director_virtual_servers) as lvs.cluster.ipvs services
description:
  - Turns the director role's C(lvs_director_virtual_servers) list (docs/topology.md)
    into the C(services) argument of M(lvs.cluster.ipvs).
options:
  _input:
    description: The virtual servers.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Apply the virtual servers without keepalived
  lvs.cluster.ipvs:
    purge: true
    services: "{{ lvs_director_virtual_servers | lvs.cluster.ipvs_services }}"
"""

RETURN = r"""
_value:
  description: Services with address/port/protocol or fwmark, scheduler, persistence
    and destinations (address, port, weight, forwarding).
  type: list
  elements: dict
"""


def ipvs_services(virtual_servers):
    services = []
    for vs in virtual_servers:
        svc = {"scheduler": vs["scheduler"], "family": vs.get("family") or "ipv4"}
        if vs.get("fwmark"):
            svc["fwmark"] = vs["fwmark"]
        else:
            svc.update(address=vs["address"], port=vs["port"], protocol=vs["protocol"])
        if vs.get("persistence_timeout"):
            svc["persistence_timeout"] = vs["persistence_timeout"]
            if vs.get("persistence_netmask"):
                svc["persistence_netmask"] = vs["persistence_netmask"]
        destinations = []
        for rs in vs["real_servers"]:
            dest = {"address": rs["address"], "weight": rs["weight"], "forwarding": vs["method"]}
            if rs.get("port"):
                dest["port"] = rs["port"]
            destinations.append(dest)
        svc["destinations"] = destinations
        services.append(svc)
    return services


def ipvs_service_key(service):
    """A service's identity as ipvsadm-save writes it: "-t 192.0.2.100:80", "-f 7"."""
    if service.get("fwmark"):
        return f"-f {service['fwmark']}" + (" -6" if service.get("family") == "ipv6" else "")
    flag = {"tcp": "-t", "udp": "-u", "sctp": "--sctp-service"}[service.get("protocol", "tcp")]
    address = service["address"]
    host = f"[{address}]" if ":" in address else address
    return f"{flag} {host}:{service['port']}"


class FilterModule:
    def filters(self):
        return {"ipvs_services": ipvs_services, "ipvs_service_key": ipvs_service_key}
