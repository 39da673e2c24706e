#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: topology_preflight
short_description: Validate the LVS topology model once and compute every host's plan
description:
  - Checks the topology model (C(lvs_segments), C(lvs_mode), C(lvs_vrrp), C(lvs_vips),
    C(lvs_services), C(lvs_sync), C(lvs_timeouts), C(lvs_sysctls), C(lvs_storage),
    C(lvs_applications)) against the hosts' C(lvs_interfaces) and the C(directors),
    C(realservers) and C(storage) groups, and fails with every problem found, each
    naming the offending item.
  - On success returns the plan, every host's role variables, computed from that one
    validation; C(playbooks/preflight.yml) hands each host its part as C(lvs_plan).
  - Runs on the controller only (an action plugin); no host is contacted. Run it once
    (C(run_once)) in the first play, before the plays that configure hosts.
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
  - The checks and the plan live in the pure Python package
    C(ansible_collections.lvs.cluster.plugins.module_utils.lvs_model).
"""

EXAMPLES = r"""
- name: Validate the topology model
  hosts: all
  gather_facts: false
  tasks:
    - name: Check the model against the inventory and compute the plan
      lvs.cluster.topology_preflight:
      run_once: true
      register: preflight

    - name: Hand each host its part of the plan
      ansible.builtin.set_fact:
        lvs_plan: "{{ preflight.plan.hosts[inventory_hostname] }}"
"""

RETURN = r"""
errors:
  description: Every problem found; empty when the model is valid.
  returned: always
  type: list
  elements: str
  sample: ["service web-https: VIP 203.0.113.50 is outside every director network"]
cluster:
  description: The cluster's name (C(lvs_cluster_name)).
  returned: success
  type: str
  sample: web
plan:
  description: >-
    C(cluster), C(summary), and C(hosts): each host's role variables (docs/topology.md,
    Role variables).
  returned: success
  type: dict
"""
