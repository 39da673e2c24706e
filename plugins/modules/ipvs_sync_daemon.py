#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ipvs_sync_daemon
short_description: Run IPVS connection synchronisation daemons
description:
  - Starts, restarts or stops the kernel's IPVS connection sync daemons, the C(master)
    that sends the connection table and the C(backup) that receives it. Both can run on
    one host at once, each with its own settings.
  - A running daemon whose settings differ from the declaration is stopped and started
    again (the kernel cannot edit one in place). Options left out keep the kernel's
    defaults and are not compared.
  - Daemons whose role is not listed are left alone.
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
options:
  daemons:
    description:
      - One entry per role.
    type: list
    elements: dict
    required: true
    suboptions:
      role:
        description:
          - Which daemon.
        type: str
        required: true
        choices: [master, backup]
      state:
        description:
          - Whether the daemon should run.
        type: str
        default: present
        choices: [present, absent]
      interface:
        description:
          - Interface to send or receive the sync messages on. Required when running.
        type: str
      syncid:
        description:
          - Sync id (0 to 255); a backup with id 0 accepts every id.
        type: int
        default: 0
      sync_maxlen:
        description:
          - Largest sync message payload in bytes (kernel default from the interface MTU).
        type: int
      mcast_group:
        description:
          - Multicast group, IPv4 or IPv6 (kernel default 224.0.0.81).
        type: str
      mcast_port:
        description:
          - Base UDP port of the group (kernel default 8848).
        type: int
      mcast_ttl:
        description:
          - Multicast TTL, 1 to 255 (kernel default 1).
        type: int
extends_documentation_fragment:
  - lvs.cluster.ipvs
attributes:
  check_mode:
    support: full
    description: Computes what would start or stop, changes nothing.
  diff_mode:
    support: full
    description: Shows the daemons before and after as C(ipvsadm -L --daemon) prints them.
seealso:
  - module: lvs.cluster.ipvs
"""

EXAMPLES = r"""
- name: Both daemons on a director pair member, so either can take over
  lvs.cluster.ipvs_sync_daemon:
    daemons:
      - {role: master, interface: eth1, syncid: 10}
      - {role: backup, interface: eth1, syncid: 10}

- name: Stop the backup daemon
  lvs.cluster.ipvs_sync_daemon:
    daemons:
      - {role: backup, state: absent}
"""

RETURN = r"""
daemons:
  description: The running daemons after the change.
  returned: success
  type: list
  elements: dict
  sample: [{role: master, interface: eth1, syncid: 10, sync_maxlen: 1472,
            mcast_group: 224.0.0.81, mcast_port: 8848, mcast_ttl: 1}]
operations:
  description: What was (or would be) done, in order.
  returned: always
  type: list
  elements: str
  sample: ["stop backup", "start backup"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs import (
    IPVS,
    IPVSUnavailable,
    NetlinkError,
    run_with,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_args import (
    DAEMON_SPEC,
    InvalidInput,
    daemon_matches,
    parse_daemons,
    with_kernel_defaults,
)


def interface_mtu(name):
    try:
        with open(f"/sys/class/net/{name}/mtu") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return None


def render(daemons):
    return "".join(d.render() + "\n" for d in sorted(daemons, key=lambda d: d.role != "master"))


def main():
    module = AnsibleModule(
        argument_spec={
            "daemons": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": DAEMON_SPEC,
            }
        },
        supports_check_mode=True,
    )
    try:
        desired = parse_daemons(module.params["daemons"])
    except InvalidInput as exc:
        module.fail_json(msg=str(exc))
    ipvs = None
    try:
        ipvs = IPVS(load=not module.check_mode, run=run_with(module))
        current = {d.role: d for d in ipvs.daemons()}
    except IPVSUnavailable as exc:
        if not module.check_mode:
            module.fail_json(msg=str(exc))
        current = {}
    except (NetlinkError, OSError) as exc:
        module.fail_json(msg=f"cannot read the IPVS sync daemons: {exc}")

    steps = []  # (verb, daemon)
    after = dict(current)
    for want, state in desired:
        if state == "present":
            # compare and predict with the values the kernel fills in for omitted options
            want = with_kernel_defaults(want, interface_mtu(want.interface))
        have = current.get(want.role)
        if have is not None and (state == "absent" or not daemon_matches(have, want)):
            steps.append(("stop", have))
            after.pop(want.role)
        if state == "present" and (have is None or not daemon_matches(have, want)):
            steps.append(("start", want))
            after[want.role] = want

    result = {"changed": bool(steps), "operations": [f"{v} {d.role}" for v, d in steps]}
    if module._diff:
        result["diff"] = {"before": render(current.values()), "after": render(after.values())}
    if steps and not module.check_mode:
        done = []
        for verb, daemon in steps:
            try:
                (ipvs.start_daemon if verb == "start" else ipvs.stop_daemon)(daemon)
            except NetlinkError as exc:
                module.fail_json(
                    msg=f"{verb} {daemon.role} sync daemon: {exc} (done before: "
                    f"{', '.join(done) or 'nothing'})",
                    **result,
                )
            done.append(f"{verb} {daemon.role}")
        after = {d.role: d for d in ipvs.daemons()}
    if ipvs is not None:
        ipvs.close()
    result["daemons"] = [
        d.to_dict() for d in sorted(after.values(), key=lambda d: d.role != "master")
    ]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
