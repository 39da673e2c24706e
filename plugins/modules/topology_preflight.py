#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: topology_preflight
short_description: Validate the LVS topology model of the inventory before any host is touched
description:
  - Checks the topology model (C(lvs_segments), C(lvs_mode), C(lvs_vrrp), C(lvs_vips),
    C(lvs_services), C(lvs_sync), C(lvs_timeouts), C(lvs_sysctls)) against the hosts'
    C(lvs_interfaces) and the C(directors) and C(realservers) groups, and fails with
    every problem found, each naming the offending item.
  - Runs on the controller only (an action plugin); no host is contacted. Run it in a
    play on C(localhost) before the plays that configure hosts.
  - The model and every check are described in C(docs/topology.md).
version_added: "0.1.0"
author:
  - lvs.cluster maintainers
options:
  model_host:
    description:
      - The host whose variables hold the model (it normally sits in C(group_vars/all)).
      - Defaults to the first host of the C(directors) group.
    type: str
attributes:
  action:
    support: full
    description: Runs on the controller.
  check_mode:
    support: full
    description: Reads only; behaves the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing, so has no diff.
  idempotent:
    support: full
    description: Changes nothing.
  platform:
    platforms: all
    support: full
    description: Any controller.
notes:
  - The checks live in the pure Python validator
    C(ansible_collections.lvs.cluster.plugins.module_utils.lvs_topology).
"""

EXAMPLES = r"""
- name: Validate the topology model
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check the model against the inventory
      lvs.cluster.topology_preflight:
"""

RETURN = r"""
errors:
  description: Every problem found; empty when the model is valid.
  returned: always
  type: list
  elements: str
  sample: ["service web-https: VIP 203.0.113.50 is outside every director network"]
topology:
  description: The profile name (C(lvs_topology)).
  returned: success
  type: str
  sample: web
"""
