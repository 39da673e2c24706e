#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: host_capabilities
short_description: Check that a host can do what the topology model asks of it
description:
  - Reads the host's kernel modules (loaded, or available for its running kernel in
    C(/lib/modules/<release>)) and network interfaces, and fails listing everything
    the host lacks for its part of the cluster, each problem naming what is missing
    and why it is needed. Changes nothing.
  - Run right after the preflight, before any host is changed
    (C(playbooks/capabilities.yml)); the plan says what each host needs
    (C(lvs_plan.lvs_capabilities)).
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
options:
  modules:
    description:
      - Kernel modules the host needs, each with the reason (shown when it is missing).
    type: dict
    default: {}
  interfaces:
    description:
      - Network interfaces that must exist (the host's C(lvs_interfaces)).
    type: list
    elements: str
    default: []
  marks:
    description:
      - The host marks packets for fwmark services, so a packet-mark backend (nftables
        with the inet family, else iptables-legacy) must work, probed as
        M(lvs.cluster.fwmark) probes it.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reads only.
  diff_mode:
    support: none
    description: Changes nothing, so has no diff.
  idempotent:
    support: full
    description: Changes nothing.
  platform:
    platforms: linux
    support: full
    description: Linux hosts (reads /sys and /lib/modules).
"""

EXAMPLES = r"""
- name: The director can run IPVS with its schedulers
  lvs.cluster.host_capabilities:
    modules:
      ip_vs: IPVS
      ip_vs_wrr: the wrr scheduler of a service
    interfaces: [eth0, eth1]
"""

RETURN = r"""
problems:
  description: What the host lacks; empty when it has everything.
  returned: always
  type: list
  elements: str
  sample: ["interface eth7 (lvs_interfaces) does not exist (found: eth0, eth1)"]
release:
  description: The running kernel's release.
  returned: always
  type: str
mark_backend:
  description: With O(marks), the backend M(lvs.cluster.fwmark) would use (null for none).
  returned: when O(marks) is true
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils import capabilities, fwmark


def main():
    module = AnsibleModule(
        argument_spec={
            "modules": {"type": "dict", "default": {}},
            "interfaces": {"type": "list", "elements": "str", "default": []},
            "marks": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    facts = capabilities.read_facts()
    wanted = {"modules": module.params["modules"], "interfaces": module.params["interfaces"]}
    problems = capabilities.problems(wanted, facts)
    result = {"changed": False, "problems": problems, "release": facts["release"]}
    if module.params["marks"]:
        backend, reason = fwmark.probe_backend(fwmark.runner(module))
        result["mark_backend"] = backend
        if backend is None:
            problems.append(f"fwmark services: {reason}")
    if problems:
        module.fail_json(msg="; ".join(problems), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
