#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: realserver
short_description: Wire a host as an LVS real server for DR, TUN and NAT, live and at boot
description:
  - DR VIPs as host routes on a non-ARP dummy device (O(dr_device)), TUN VIPs on
    C(tunl0) (the C(ipip) module), and a source rule with a routing table of its own that
    sends NAT replies through the directors' inside VIP; the ARP sysctls wherever a VIP is
    held and C(rp_filter=0) with TUN.
  - Owns those objects. Addresses on the dummy device and C(tunl0), and rules and routes
    of O(nat_table), that are not declared are removed; the dummy device is deleted when
    no DR VIP is declared. Sysctls no longer declared keep their live value.
  - Reads the live state on every run and changes only what differs, so a run that was
    interrupted is completed by the next one.
  - Persists what restores the state at boot without Ansible, and starts it, namely
    C(/etc/lvs-realserver.json) (the parameters), C(/etc/modules-load.d/lvs-realserver.conf),
    C(/etc/sysctl.d/60-lvs-realserver.conf), and C(lvs-realserver.service), a oneshot unit
    (enabled) that runs C(/usr/local/sbin/lvs-realserver), the module's own planner
    installed under C(/usr/local/lib/lvs-cluster).
  - Needs python3, iproute2 and kmod on the host.
version_added: "0.2.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
options:
  vips:
    description:
      - The VIPs this host accepts traffic for. DR and TUN VIPs not listed, or listed
        with O(vips[].state=absent), are removed.
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description:
          - The VIP, held as a /32 (or /128 for an IPv6 DR VIP, which loads C(ipv6)).
        type: str
        required: true
      method:
        description:
          - C(dr) puts the VIP on O(dr_device), C(tun) on C(tunl0) (IPv4 only).
        type: str
        required: true
        choices: [dr, tun]
      services:
        description:
          - Names of the services using the VIP (informational, kept in the state file).
        type: list
        elements: str
        default: []
      state:
        description:
          - C(absent) removes the VIP.
        type: str
        choices: [present, absent]
        default: present
  nat:
    description:
      - Replies from O(nat.source) leave through O(nat.gateway); everything else keeps the
        main table. Null removes the rule and the routes of O(nat_table).
    type: dict
    suboptions:
      gateway:
        description: The directors' inside VIP (IPv4).
        type: str
        required: true
      interface:
        description: Interface towards the inside VIP.
        type: str
        required: true
      source:
        description: This host's address that NAT services forward to (IPv4).
        type: str
        required: true
      network:
        description: The segment's network, kept on-link in the rule's table.
        type: str
        required: true
  interfaces:
    description:
      - Interfaces that get the ARP settings (and C(rp_filter=0) with TUN) besides C(all).
    type: list
    elements: str
    default: [eth0]
  arp_ignore:
    description: C(net.ipv4.conf.*.arp_ignore) wherever a VIP is held.
    type: int
    choices: [0, 1, 2, 3, 8]
    default: 1
  arp_announce:
    description: C(net.ipv4.conf.*.arp_announce) wherever a VIP is held.
    type: int
    choices: [0, 1, 2]
    default: 2
  dr_device:
    description: The dummy (non-ARP) device of the DR VIPs.
    type: str
    default: lvs0
  nat_table:
    description: Routing table of the NAT source rule (1 to 252), owned by the module.
    type: int
    default: 100
  nat_priority:
    description: Priority of the NAT source rule (before the main table's 32766).
    type: int
    default: 100
attributes:
  check_mode:
    support: full
    description: Plans against the live state and the files, lists the operations, changes nothing.
  diff_mode:
    support: full
    description:
      - Before and after of the devices, NAT rules and routes, sysctls, modules, the boot
        files (digest and mode) and the unit.
  idempotent:
    support: full
    description: A second run with the same parameters reports no change.
seealso:
  - module: lvs.cluster.sysctl
"""

EXAMPLES = r"""
- name: DR and TUN VIPs, NAT replies through the inside VIP
  lvs.cluster.realserver:
    vips:
      - {address: 192.0.2.100, method: dr}
      - {address: 192.0.2.101, method: tun}
    nat:
      gateway: 198.51.100.1
      interface: eth1
      source: 198.51.100.21
      network: 198.51.100.0/24
    interfaces: [eth0, eth1]

- name: Nothing declared any more (removes VIPs, lvs0 and the NAT rule)
  lvs.cluster.realserver:
    vips: []
    nat: null
"""

RETURN = r"""
operations:
  description: What was done (in check mode, what would be done), in order.
  returned: always
  type: list
  elements: str
  sample: ["load module dummy", "create dummy device lvs0", "add 192.0.2.100/32 to lvs0"]
state:
  description: What the module owns on the host after the run (as the diff shows it).
  returned: success
  type: dict
  sample:
    devices: {lvs0: {up: true, addresses: [192.0.2.100/32]}}
    nat_rules: ["100: from 198.51.100.21"]
    nat_routes: ["198.51.100.0/24 dev eth1 src 198.51.100.21", "default via 198.51.100.1 dev eth1"]
    sysctls: {net.ipv4.conf.all.arp_ignore: "1"}
    modules: [dummy]
applied:
  description: On a failure part way, the operations that were done.
  returned: failure
  type: list
  elements: str
not_attempted:
  description: On a failure part way, the operations after the one that failed.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.realserver import (
    ARGUMENT_SPEC,
    OperationFailed,
    Wanted,
    boot_files,
    describe,
    execute,
    expect,
    plan,
    read_facts,
)


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        wanted = Wanted.from_params(module.params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))

    def run(argv):
        return module.run_command(argv)

    files = boot_files(wanted)
    try:
        facts = read_facts(wanted, run, files)
    except (RuntimeError, ValueError) as exc:
        module.fail_json(msg=f"cannot read the host's state: {exc}")
    ops = plan(wanted, facts, files)
    after = expect(wanted, facts, files)
    result = {"changed": bool(ops), "operations": [op.text for op in ops]}
    if module._diff:
        result["diff"] = {"before": describe(facts), "after": describe(after)}
    if ops and not module.check_mode:
        try:
            execute(ops, run)
        except OperationFailed as exc:
            module.fail_json(
                msg=f"{exc} ({len(exc.done)} of {len(ops)} operations done): "
                "fix the cause and run again to converge",
                applied=exc.done,
                not_attempted=exc.not_attempted,
                **{**result, "changed": bool(exc.done)},
            )
        # what the host holds now, read again
        after = read_facts(wanted, run, files)
    result["state"] = describe(after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
