#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sysctl
short_description: Set kernel settings in one batch, live and in a sysctl.d file
description:
  - Reads the live value of every key of O(values), writes only those that differ, and
    writes O(path) (a C(sysctl.d) file that C(systemd-sysctl) applies at boot) when its
    text differs, atomically and durably.
  - One module run for any number of keys. The live values are compared on every run,
    so a run interrupted after the file was written is completed by the next one.
  - Values are compared as the kernel prints them, whitespace collapsed, so a list
    V([3, 50]), V("3 50") and the kernel's V(3<tab>50) are the same.
  - Keys left out of O(values) keep their live value and leave the file.
version_added: "0.2.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
options:
  values:
    description:
      - Key (dotted, C(net.ipv4.ip_forward)) to value (a number, a string, or a list
        written space-separated).
    type: dict
    required: true
  path:
    description:
      - The C(sysctl.d) file holding exactly O(values) (sorted); none to change only the
        live values.
    type: path
  header:
    description: Comment lines at the top of O(path).
    type: str
    default: "# Written by Ansible (lvs.cluster.sysctl): do not edit.\n"
attributes:
  check_mode:
    support: full
    description: Reads the live values and the file, reports the differences, changes nothing.
  diff_mode:
    support: full
    description: The live values and the file, before and after.
  idempotent:
    support: full
    description: A second run with the same values reports no change.
notes:
  - A key the kernel does not have (a module not loaded, a device that does not exist)
    fails the task, except in check mode, where it is reported as a change from nothing.
seealso:
  - module: ansible.posix.sysctl
  - module: lvs.cluster.realserver
"""

EXAMPLES = r"""
- name: IPVS DoS defences, live and at boot
  lvs.cluster.sysctl:
    values:
      net.ipv4.vs.drop_entry: 1
      net.ipv4.vs.sync_threshold: [3, 50]
    path: /etc/sysctl.d/60-lvs-director.conf
"""

RETURN = r"""
changed_keys:
  description: The keys whose live value differed (and was, outside check mode, set).
  returned: always
  type: dict
  sample: {net.ipv4.vs.drop_entry: {before: "0", after: "1"}}
file_changed:
  description: Whether O(path) was (or in check mode would be) written.
  returned: always
  type: bool
values:
  description: The live values of O(values) after the run.
  returned: success
  type: dict
  sample: {net.ipv4.vs.drop_entry: "1"}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.sysctl import Batch, read


def main():
    module = AnsibleModule(
        argument_spec={
            "values": {"type": "dict", "required": True},
            "path": {"type": "path"},
            "header": {
                "type": "str",
                "default": "# Written by Ansible (lvs.cluster.sysctl): do not edit.\n",
            },
        },
        supports_check_mode=True,
    )
    header = module.params["header"]
    if header and not header.endswith("\n"):
        header += "\n"
    batch = Batch(module.params["values"], module.params["path"], header).read()
    result = {
        "changed": batch.changed,
        "changed_keys": {k: {"before": b, "after": a} for k, (b, a) in batch.changes.items()},
        "file_changed": batch.file_changed,
    }
    if module._diff:
        result["diff"] = batch.diff()
    if batch.changed and not module.check_mode:
        try:
            batch.apply()
        except OSError as exc:
            module.fail_json(msg=str(exc), **result)
        result["values"] = read(batch.wanted)
    else:
        result["values"] = {**batch.live, **batch.wanted}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
