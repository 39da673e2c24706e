#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ipvs
short_description: Declare IPVS virtual services and their real servers
description:
  - Manages the live IPVS (Linux Virtual Server) table of the target over generic
    netlink, the interface C(ipvsadm) uses, so the target needs only python3.
  - Reads the kernel's real state, computes the smallest set of changes and edits
    services and destinations in place where the kernel allows it. A weight, scheduler,
    forwarding or threshold change never deletes and re-adds, so established connections
    stay up.
  - Only the declared services are read and changed unless O(purge=true), so a change to
    one service costs the same on a table of any size.
  - Loads the C(ip_vs) kernel module and the scheduler modules when they are missing
    (not in check mode).
  - If the kernel refuses a change part way, the task fails and lists which changes were
    applied; running it again converges.
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
options:
  services:
    description:
      - The virtual services. A service is identified by O(services[].protocol),
        O(services[].address) and O(services[].port), or by O(services[].fwmark) and
        O(services[].family).
      - For a present service, O(services[].destinations) is the complete list of its
        real servers; others are removed.
    type: list
    elements: dict
    default: []
    suboptions:
      address:
        description:
          - Virtual IPv4 or IPv6 address. Mutually exclusive with O(services[].fwmark).
        type: str
      port:
        description:
          - Virtual port, 0 to 65535. Port 0 (all ports) needs
            O(services[].persistence_timeout). Required with O(services[].address).
        type: int
      protocol:
        description:
          - Transport protocol of an address service. Defaults to C(tcp).
        type: str
        choices: [tcp, udp, sctp]
      fwmark:
        description:
          - Firewall mark that selects the packets of this service (1 to 4294967295).
            Mutually exclusive with O(services[].address).
        type: int
      family:
        description:
          - Address family of a fwmark service (default C(ipv4)). For an address service
            it is implied by the address and, if given, must match it.
        type: str
        choices: [ipv4, ipv6]
      state:
        description:
          - Whether the service should exist.
        type: str
        default: present
        choices: [present, absent]
      scheduler:
        description:
          - Scheduling algorithm.
        type: str
        default: wlc
        choices: [rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh, fo, ovf]
      persistence_timeout:
        description:
          - Makes the service persistent, with this timeout in seconds.
        type: int
      persistence_netmask:
        description:
          - Granularity of persistence, an IPv4 netmask (V(255.255.255.0) or V(24)) or an
            IPv6 prefix length. Needs O(services[].persistence_timeout).
        type: str
      one_packet:
        description:
          - One-packet scheduling (UDP services only).
        type: bool
        default: false
      hash_fallback:
        description:
          - For the C(sh) and C(mh) schedulers, pick another server when the hashed one
            is unavailable or overloaded.
        type: bool
        default: false
      hash_port:
        description:
          - For the C(sh) and C(mh) schedulers, hash the source port as well as the
            address.
        type: bool
        default: false
      destinations:
        description:
          - Real servers of the service.
        type: list
        elements: dict
        default: []
        suboptions:
          address:
            description:
              - Real server address. Must be of the service's family unless
                O(services[].destinations[].forwarding=tun).
            type: str
            required: true
          port:
            description:
              - Real server port, defaults to the service port. Only C(nat) can map to
                another port.
            type: int
          weight:
            description:
              - Weight, 0 to 65535. Weight 0 sends no new connections.
            type: int
            default: 1
          forwarding:
            description:
              - Forwarding method, direct routing, tunnelling or NAT (masquerading).
            type: str
            default: dr
            choices: [dr, tun, nat]
          upper_threshold:
            description:
              - Upper connection threshold, 0 for none.
            type: int
            default: 0
          lower_threshold:
            description:
              - Lower connection threshold, at most O(services[].destinations[].upper_threshold).
            type: int
            default: 0
          tunnel_type:
            description:
              - Encapsulation for C(tun) forwarding (default C(ipip)).
            type: str
            choices: [ipip, gue, gre]
          tunnel_port:
            description:
              - Destination UDP port for C(gue) encapsulation.
            type: int
          tunnel_checksum:
            description:
              - Checksum mode for C(gue) and C(gre) encapsulation (default C(nocsum)).
            type: str
            choices: [nocsum, csum, remcsum]
  purge:
    description:
      - Remove services that are not declared in O(services). This reads the whole table.
    type: bool
    default: false
  drain:
    description:
      - Instead of deleting a destination (or a service) at once, set its weight to 0
        and delete it on a later run, once it carries no connections.
      - While something drains, the result lists it in RV(draining).
    type: bool
    default: false
extends_documentation_fragment:
  - lvs.cluster.ipvs
attributes:
  check_mode:
    support: full
    description: Computes the exact plan and diff from the kernel's state, changes nothing.
  diff_mode:
    support: full
    description: Shows the table before and after in C(ipvsadm-save -n) form.
notes:
  - The diff covers the declared services only, or the whole table with O(purge=true).
  - It also shows thresholds as C(-x)/C(-y), which C(ipvsadm-save) leaves out.
  - The result lists the changes (RV(operations)), not the table, so that its size follows
    the change rather than the table; M(lvs.cluster.ipvs_info) reads the table.
seealso:
  - module: lvs.cluster.ipvs_info
  - module: lvs.cluster.ipvs_sync_daemon
  - module: lvs.cluster.ipvs_timeouts
"""

EXAMPLES = r"""
- name: Web service on a VIP, two real servers by direct routing
  lvs.cluster.ipvs:
    services:
      - address: 192.0.2.10
        port: 80
        scheduler: wrr
        destinations:
          - address: 192.0.2.21
            weight: 2
          - address: 192.0.2.22

- name: NAT with port mapping, persistent clients per /24, and an IPv6 fwmark service
  lvs.cluster.ipvs:
    services:
      - address: 192.0.2.10
        port: 443
        persistence_timeout: 600
        persistence_netmask: 255.255.255.0
        destinations:
          - {address: 198.51.100.21, port: 8443, forwarding: nat}
      - fwmark: 7
        family: ipv6
        scheduler: mh
        hash_port: true
        destinations:
          - {address: "2001:db8::21"}

- name: Exactly these services, remove everything else, drain removed servers first
  lvs.cluster.ipvs:
    purge: true
    drain: true
    services: "{{ lvs_services }}"
"""

RETURN = r"""
operations:
  description: The changes made (or, in check mode, to be made), as ipvsadm command lines.
  returned: always
  type: list
  elements: str
  sample:
    - "-a -t 192.0.2.10:80 -r 192.0.2.23:80 -g -w 1"
    - "-e -t 192.0.2.10:80 -r 192.0.2.21:80 -g -w 0"
draining:
  description: Destinations and services kept at weight 0 until their connections end.
  returned: always
  type: list
  elements: str
  sample: ["tcp 192.0.2.10:80 -> 192.0.2.22:80"]
applied:
  description: On a partial failure, the changes that the kernel accepted.
  returned: failure
  type: list
  elements: str
refused:
  description: On a partial failure, the refused changes with the kernel's reason.
  returned: failure
  type: list
  elements: str
not_attempted:
  description: On a partial failure, the changes not sent after the refusal.
  returned: failure
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs import (
    IPVS,
    IPVSUnavailable,
    NetlinkError,
    load_module,
    run_with,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_args import (
    InvalidInput,
    parse_services,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import render
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_plan import plan, simulate


def read_current(ipvs, desired, purge):
    """The part of the table this run manages: declared services, or all with purge."""
    if ipvs is None:
        return []
    if purge:
        return ipvs.services()
    found = ipvs.get_services([svc for svc, _state in desired])
    return [svc for svc in found.values() if svc is not None]


def main():
    module = AnsibleModule(
        argument_spec={
            # SERVICE_SPEC (the DOCUMENTATION's suboptions) is checked by parse_services,
            # entry by entry in one pass: Ansible's nested validation of a 10,000-entry
            # table takes seconds on a director
            "services": {"type": "list", "elements": "dict", "default": []},
            "purge": {"type": "bool", "default": False},
            "drain": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    try:
        desired = parse_services(module.params["services"])
    except InvalidInput as exc:
        module.fail_json(msg=str(exc))
    purge, drain = module.params["purge"], module.params["drain"]

    ipvs = None
    try:
        # check mode loads no kernel module: without ip_vs the table is empty
        ipvs = IPVS(load=not module.check_mode, run=run_with(module))
    except IPVSUnavailable as exc:
        if not module.check_mode:
            module.fail_json(msg=str(exc))
    except (NetlinkError, OSError) as exc:
        module.fail_json(msg=f"cannot open the IPVS netlink family: {exc}")

    try:
        current = read_current(ipvs, desired, purge)
    except (NetlinkError, OSError) as exc:
        module.fail_json(msg=f"cannot read the IPVS table: {exc}")
    todo = plan(current, desired, purge=purge, drain=drain)

    # a missing scheduler module is found before any change is sent
    schedulers = {
        op.service.scheduler for op in todo.ops if op.kind in ("add_service", "set_service")
    }
    missing = sorted(
        s
        for s in schedulers
        if not load_module(f"ip_vs_{s}", dry_run=module.check_mode, run=run_with(module))
    )
    if missing:
        module.fail_json(
            msg="; ".join(
                f"scheduler '{s}' is not available (module ip_vs_{s} missing?)" for s in missing
            )
        )

    result = {
        "changed": bool(todo.ops),
        "operations": [op.describe() for op in todo.ops],
        "draining": todo.draining,
    }
    if module._diff:
        result["diff"] = {
            "before": render(current),
            "after": render(simulate(current, todo.ops)),
            "before_header": "ipvsadm -Sn (before)",
            "after_header": "ipvsadm -Sn (after)",
        }
    if todo.ops and not module.check_mode:
        try:
            outcome = ipvs.apply(todo.ops)
        except (NetlinkError, OSError) as exc:
            module.fail_json(
                msg=f"lost track of the kernel's answers while applying changes ({exc}); "
                "some may have been applied: run again to converge",
                **result,
            )
        if not outcome.ok:
            failures = [f"{op.describe()}: {why}" for op, why in outcome.failed]
            if "diff" in result:
                # what the table holds now: the changes the kernel accepted, no more
                result["diff"]["after"] = render(simulate(current, outcome.applied))
            module.fail_json(
                msg=(
                    f"the kernel refused {len(outcome.failed)} of {len(todo.ops)} changes "
                    f"({len(outcome.applied)} applied, {len(outcome.not_attempted)} not sent): "
                    + "; ".join(failures)
                    + ". Fix the cause and run again to converge."
                ),
                changed=bool(outcome.applied),
                applied=[op.describe() for op in outcome.applied],
                refused=failures,
                not_attempted=[op.describe() for op in outcome.not_attempted],
                **{k: v for k, v in result.items() if k not in ("changed",)},
            )
    if ipvs is not None:
        ipvs.close()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
