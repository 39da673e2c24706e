# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters that hand each role plain variables made from the topology model.

Playbooks read the model, roles never do (docs/topology.md)::

    - name: Configure the LVS directors
      hosts: directors
      vars:
        __lvs: "{{ hostvars | lvs.cluster.topology_role_vars(groups, inventory_hostname) }}"
      roles:
        - role: lvs_director
          vars:
            lvs_director_virtual_servers: "{{ __lvs.lvs_director_virtual_servers }}"

``topology_role_vars`` returns the ``lvs_director_*`` variables for a director, the
``lvs_realserver_*`` ones for a real server, and for every host the storage roles'
(``nfs_server_*``, ``nfs_client_*``, ``glusterfs_*``, ``web_document_root``); it raises
the validator's messages if the model is invalid (preflight normally stops that first).
"""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.module_utils import lvs_topology


def _inputs(hostvars, groups, host):
    names = list(groups.get("all", []))
    hosts = {
        name: lvs_topology.plain(
            {
                "ansible_host": hostvars[name].get("ansible_host"),
                "lvs_interfaces": hostvars[name].get("lvs_interfaces") or [],
            }
        )
        for name in names
    }
    plain_groups = {name: list(members) for name, members in groups.items()}
    return lvs_topology.model_from_vars(hostvars[host]), hosts, plain_groups


def topology_role_vars(hostvars, groups, host):
    """The plain role variables of one host."""
    model, hosts, plain_groups = _inputs(hostvars, groups, host)
    try:
        return lvs_topology.host_vars(model, hosts, plain_groups, host)
    except lvs_topology.TopologyError as exc:
        raise AnsibleFilterError(f"invalid topology model: {exc}") from exc


class FilterModule:
    def filters(self):
        return {"topology_role_vars": topology_role_vars}
