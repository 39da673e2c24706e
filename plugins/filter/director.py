# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shape a director's virtual servers for the lvs.cluster.ipvs module, and render them.

ipvsadm-save text comes from one renderer, plugins/module_utils/ipvs_model.py (the text
the kernel tests compare with ``ipvsadm -Sn``); these filters only hand it the records:

- ``ipvs_services``: the role's virtual servers as the module's ``services``;
- ``ipvsadm_save``: those services as ``ipvsadm-save -n`` writes them (ipvsadm-restore
  input, e.g. /etc/lvs/ipvs.rules);
- ``ipvs_service_key``: a service's identity as that text writes it ("-t VIP:PORT").
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_args import (
    InvalidInput,
    parse_services,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    FAMILIES,
    Service,
    render,
    service_spec,
)

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


def ipvsadm_save(services):
    """The present services (the module's ``services`` shape) in ``ipvsadm-save -n`` form."""
    try:
        parsed = parse_services(services)
    except InvalidInput as exc:
        raise AnsibleFilterError(f"ipvsadm_save: {exc}") from exc
    return render([svc for svc, state in parsed if state == "present"])


def ipvs_service_key(service):
    """A service's identity as ipvsadm-save writes it: "-t 192.0.2.100:80", "-f 7 -6".

    Takes a declared service (the module's ``services``) or one lvs.cluster.ipvs_info
    reports.
    """
    if service.get("fwmark"):
        svc = Service(family=FAMILIES[service.get("family") or "ipv4"], fwmark=service["fwmark"])
    else:
        svc = Service(
            protocol=service.get("protocol") or "tcp",
            address=service["address"],
            port=service["port"],
        )
    return service_spec(svc)


class FilterModule:
    def filters(self):
        return {
            "ipvs_services": ipvs_services,
            "ipvsadm_save": ipvsadm_save,
            "ipvs_service_key": ipvs_service_key,
        }
