#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ipvs_info
short_description: Read the IPVS table, statistics, sync daemons and timeouts
description:
  - Returns the live IPVS state of the target as structured data, read over generic
    netlink. Never changes anything and loads no kernel module; without C(ip_vs) loaded
    it returns RV(ipvs.available=false) and empty lists.
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
options:
  stats:
    description:
      - Include connection, packet and byte counters and rates per service and destination.
    type: bool
    default: true
extends_documentation_fragment:
  - lvs.cluster.ipvs
attributes:
  check_mode:
    support: full
    description: Read only; runs the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
seealso:
  - module: lvs.cluster.ipvs
"""

EXAMPLES = r"""
- name: Read IPVS state
  lvs.cluster.ipvs_info:
  register: lvs

- name: Show the number of connections of every real server
  ansible.builtin.debug:
    msg: "{{ item.0.address }}:{{ item.0.port }} -> {{ item.1.address }}: {{ item.1.active_conns }}"
  loop: "{{ lvs.ipvs.services | subelements('destinations') }}"
"""

RETURN = r"""
ipvs:
  description: IPVS state of the target.
  returned: always
  type: dict
  contains:
    available:
      description: Whether the C(ip_vs) module is loaded.
      type: bool
      sample: true
    version:
      description: IPVS version of the kernel.
      type: str
      sample: 1.2.1
    conn_tab_size:
      description: Size of the connection hash table.
      type: int
      sample: 4096
    services:
      description:
        - Virtual services with their destinations, in C(ipvsadm) order. Each has the
          options of M(lvs.cluster.ipvs), and with O(stats) a C(stats) dict (conns,
          inpkts, outpkts, inbytes, outbytes, cps, inpps, outpps, inbps, outbps).
        - Each destination also has C(active_conns), C(inactive_conns) and
          C(persistent_conns).
      type: list
      elements: dict
    sync_daemons:
      description: Running connection sync daemons.
      type: list
      elements: dict
      sample: [{role: master, interface: eth1, syncid: 5, sync_maxlen: 1472,
                mcast_group: 224.0.0.81, mcast_port: 8848, mcast_ttl: 1}]
    timeouts:
      description: Connection timeouts in seconds.
      type: dict
      sample: {tcp: 900, tcp_fin: 120, udp: 300}
    save:
      description: The table in C(ipvsadm-save -n) form.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs import (
    IPVS,
    IPVSUnavailable,
    NetlinkError,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import Timeouts, render


def main():
    module = AnsibleModule(
        argument_spec={"stats": {"type": "bool", "default": True}},
        supports_check_mode=True,
    )
    try:
        ipvs = IPVS(load=False)
    except IPVSUnavailable:
        module.exit_json(
            changed=False,
            ipvs={
                "available": False,
                "version": None,
                "conn_tab_size": None,
                "services": [],
                "sync_daemons": [],
                "timeouts": Timeouts().to_dict(),
                "save": "",
            },
        )
    try:
        with ipvs:
            services = ipvs.services(stats=module.params["stats"])
            state = {
                "available": True,
                **ipvs.info(),
                "services": [s.to_dict(with_state=True) for s in services],
                "sync_daemons": [d.to_dict() for d in ipvs.daemons()],
                "timeouts": ipvs.timeouts().to_dict(),
                "save": render(services),
            }
    except (NetlinkError, OSError) as exc:
        module.fail_json(msg=f"cannot read IPVS state: {exc}")
    if not module.params["stats"]:
        for svc in state["services"]:
            svc.pop("stats", None)
            for dest in svc["destinations"]:
                dest.pop("stats", None)
    module.exit_json(changed=False, ipvs=state)


if __name__ == "__main__":
    main()
