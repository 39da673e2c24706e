#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: fwmark
short_description: Mark packets for IPVS fwmark services, live and at boot
description:
  - Sets firewall marks on incoming packets (hook prerouting, mangle priority) so that
    IPVS fwmark services group several ports or protocols of a VIP into one service.
  - Probes which backend the host's kernel supports, for real, never by distribution
    name. V(nftables) when C(nft) can create a table in the C(inet) family (tried in one
    transaction that creates and deletes a throwaway table, so nothing changes);
    otherwise V(iptables-legacy) when C(iptables-legacy -t mangle -S) works (IPv6 marks
    need C(ip6tables-legacy) too). When both work, nftables wins, as Debian hosts run it.
    A host with neither is refused with a message naming what is missing.
  - The collection owns one table, C(inet lvs_fwmark) (nftables), or one chain,
    C(LVS_FWMARK) in the mangle table with one jump to it from C(PREROUTING)
    (iptables-legacy). Every run reads them and makes them hold exactly O(rules); rules
    not declared any more are removed, missing ones added, in one atomic transaction per
    table. Rules and tables of anyone else are left alone.
  - Writes the boot form for the backend in use, C(fwmark.nft) (loaded with
    C(nft -f)) or C(fwmark.sh) (a script that runs C(iptables-legacy-restore --noflush)),
    in O(boot_dir), from the same rules as the live state, so live and boot cannot
    drift. RV(boot_command) is the command a boot unit runs to load it.
  - With O(local_delivery), packets of those marks are delivered to the host itself
    although they are addressed to others (a policy rule per mark looking up
    O(local_table), whose one route is C(local default dev lo)), so that IPVS schedules
    traffic the host would otherwise forward, such as a transparent cache cluster's web
    traffic. Rules of other marks that look up that table are removed; the same rules
    and route are written to C(fwmark-local.sh) for boot (RV(local_boot_command)).
  - With no rules, the collection's table, chain and boot files are removed.
  - What the collection owns on the backend not in use (a table left by nftables, a
    chain left by iptables-legacy, the other boot file) is removed too. Legacy tables
    are only read when their kernel module is loaded, so an nftables host never gets
    C(ip_tables) loaded by this module.
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
requirements:
  - C(nft) (package nftables) and a kernel with nf_tables C(inet), or C(iptables-legacy)
    (package iptables) with the legacy modules C(ip_tables), C(iptable_mangle),
    C(xt_mark) and the protocol matches (C(ip6_tables), C(ip6table_mangle) for IPv6).
options:
  rules:
    description:
      - The marks. Packets to O(rules[].address) with O(rules[].protocol) and a
        destination port in O(rules[].port) get the mark O(rules[].fwmark).
      - The complete list, in order; duplicates are dropped.
    type: list
    elements: dict
    default: []
    suboptions:
      fwmark:
        description:
          - The mark, 1 to 4294967295 (the IPVS fwmark service's).
        type: int
        required: true
      address:
        description:
          - Destination IPv4 or IPv6 address (the VIP), or a network with its prefix
            (C(198.18.0.0/15)) for traffic the host forwards.
        type: str
        required: true
      interface:
        description:
          - Only packets arriving on this interface; any interface when omitted.
        type: str
      protocol:
        description:
          - Transport protocol.
        type: str
        choices: [tcp, udp, sctp]
        required: true
      port:
        description:
          - Destination port C("554") or range C("6970:6999").
        type: str
        required: true
  local_delivery:
    description:
      - Marks whose packets are delivered locally (each must be set by a rule).
    type: list
    elements: int
    default: []
  local_table:
    description:
      - The routing table of the local delivery (1 to 252), owned by this module.
    type: int
    default: 101
  local_priority:
    description:
      - The priority of the local delivery's policy rules; before C(main) (32766).
    type: int
    default: 101
  backend:
    description:
      - V(auto) probes and takes nftables when it works, else iptables-legacy. Naming a
        backend uses it or fails, and still cleans up the collection's rules on the
        other one.
    type: str
    choices: [auto, nftables, iptables-legacy]
    default: auto
  boot_dir:
    description:
      - Folder of the boot files (created when missing).
    type: path
    default: /etc/lvs
  probe_only:
    description:
      - Only probe, returning RV(backend) (null when neither works) and RV(probe); change
        nothing and fail on nothing. O(rules) is ignored. Safe in check mode, for
        capability checks before a run changes anything.
    type: bool
    default: false
extends_documentation_fragment:
  - lvs.cluster.ipvs
attributes:
  check_mode:
    support: full
    description: Computes the whole plan from the live rules; changes no rule and no file.
  diff_mode:
    support: full
    description:
      - Shows the collection's live rules before and after, as C(nft list) and
        C(iptables-legacy -t mangle -S) print them, and each boot file's content.
  idempotent:
    support: full
    description: A second run with the same rules reports no change.
notes:
  - Marks apply to packets arriving on an interface (prerouting), which is where a
    director's clients come from; traffic the host sends itself is not marked.
  - A legacy probe may load the legacy iptables kernel modules (C(iptables-legacy) loads
    them on first use), also in check mode.
seealso:
  - module: lvs.cluster.ipvs
"""

EXAMPLES = r"""
- name: RTSP control and its UDP data ports as one fwmark service
  lvs.cluster.fwmark:
    rules:
      - {fwmark: 1, address: 192.0.2.50, protocol: tcp, port: "554"}
      - {fwmark: 1, address: 192.0.2.50, protocol: udp, port: "6970:6999"}
      - {fwmark: 2, address: "2001:db8::50", protocol: tcp, port: "554"}
  register: marks

- name: The boot unit loads what the module wrote
  ansible.builtin.debug:
    msg: "ExecStart={{ marks.boot_command }}"

- name: Remove every mark of the collection (table, chain and boot file)
  lvs.cluster.fwmark:
    rules: []

# A capability check before anything changes: reads only, also under --check
- name: Find the mark backend
  lvs.cluster.fwmark:
    probe_only: true
  check_mode: false
  register: mark_backend

- name: Refuse a director that cannot mark packets
  ansible.builtin.assert:
    that: mark_backend.backend is not none
    fail_msg: "{{ inventory_hostname }}: {{ mark_backend.probe.reason }}"
"""

RETURN = r"""
backend:
  description:
    - The backend in use (V(nftables) or V(iptables-legacy)); with O(probe_only), the
      one the host would use. Null without rules (outside O(probe_only)), or when
      neither works.
  returned: always
  type: str
  sample: iptables-legacy
probe:
  description: What the probe found.
  returned: always
  type: dict
  contains:
    nftables:
      description: Null when nftables works, else why not.
      type: str
    iptables_legacy:
      description: Null when iptables-legacy works, else why not; C(not probed) when it was
        not needed.
      type: str
    ip6tables_legacy:
      description: The same for ip6tables-legacy (not with O(probe_only)).
      type: str
    reason:
      description: Why this backend, or what is missing for any.
      type: str
  sample:
    nftables: >-
      nft cannot create an inet table: Error: Could not process rule: Operation not
      supported
    iptables_legacy: null
    ip6tables_legacy: not probed
    reason: "iptables-legacy: nft cannot create an inet table (...)"
operations:
  description: The changes, in words (in check mode, the changes a run would make).
  returned: always
  type: list
  elements: str
  sample:
    - add the jump from PREROUTING to LVS_FWMARK (iptables-legacy)
    - create the chain LVS_FWMARK (iptables-legacy)
    - add tcp 192.0.2.50 port 554 mark 1 (iptables-legacy mangle LVS_FWMARK)
    - write fwmark.sh
commands:
  description: The commands run (in check mode, that a run would run), with their input.
  returned: always
  type: list
  elements: str
rules:
  description: The collection's live rules after the run, as the backend prints them.
  returned: always
  type: list
  elements: str
  sample:
    - >-
      iptables-legacy -t mangle: -A LVS_FWMARK -d 192.0.2.50/32 -p tcp -m tcp --dport 554
      -j MARK --set-xmark 0x1/0xffffffff
    - "iptables-legacy -t mangle: -A PREROUTING -j LVS_FWMARK"
boot_file:
  description: The boot file of the backend in use; null without rules.
  returned: always
  type: path
  sample: /etc/lvs/fwmark.sh
boot_command:
  description: The command that loads RV(boot_file) at boot; null without rules.
  returned: always
  type: str
  sample: /bin/sh /etc/lvs/fwmark.sh
local_boot_command:
  description: The command that sets up the local delivery at boot; null without it.
  returned: always
  type: str
  sample: /bin/sh /etc/lvs/fwmark-local.sh
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.fwmark import (
    BOOT_COMMANDS,
    IPTABLES,
    LOCAL_BOOT_FILE,
    NFTABLES,
    FwmarkError,
    LocalDelivery,
    Plan,
    parse_marks,
    plan,
    probe_details,
    read_facts,
    runner,
)

RULE_SPEC = {
    "fwmark": {"type": "int", "required": True},
    "address": {"type": "str", "required": True},
    "protocol": {"type": "str", "required": True, "choices": ["tcp", "udp", "sctp"]},
    "port": {"type": "str", "required": True},
    "interface": {"type": "str"},
}


def write_file(module, path, content):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".fwmark.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(content)
    os.chmod(tmp, 0o644)
    module.atomic_move(tmp, path)


def diff(result: Plan, facts, boot_dir):
    live = {
        "before_header": "live marks",
        "after_header": "live marks",
        "before": "".join(f"{r}\n" for r in result.before),
        "after": "".join(f"{r}\n" for r in result.after),
    }
    files = []
    for name, before in sorted(facts.boot_files.items()):
        after = result.write.get(name, None if name in result.remove else before)
        if before == after:
            continue
        path = os.path.join(boot_dir, name)
        files.append(
            {
                "before_header": path if before is not None else "(absent)",
                "after_header": path if after is not None else "(absent)",
                "before": before or "",
                "after": after or "",
            }
        )
    return [live, *files]


def main():
    module = AnsibleModule(
        argument_spec={
            "rules": {"type": "list", "elements": "dict", "default": [], "options": RULE_SPEC},
            "backend": {
                "type": "str",
                "default": "auto",
                "choices": ["auto", NFTABLES, IPTABLES],
            },
            "boot_dir": {"type": "path", "default": "/etc/lvs"},
            "local_delivery": {"type": "list", "elements": "int", "default": []},
            "local_table": {"type": "int", "default": 101},
            "local_priority": {"type": "int", "default": 101},
            "probe_only": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    run = runner(module)
    boot_dir = module.params["boot_dir"]

    if module.params["probe_only"]:
        backend, reason, details = probe_details(run)
        module.exit_json(
            changed=False,
            backend=backend,
            probe={**details, "reason": reason},
            operations=[],
            commands=[],
            rules=[],
            boot_file=None,
            boot_command=None,
            local_boot_command=None,
        )

    p = module.params
    if not 1 <= p["local_table"] <= 252:
        module.fail_json(msg=f"local_table {p['local_table']}: must be 1..252")
    if not 1 <= p["local_priority"] <= 32765:
        module.fail_json(msg=f"local_priority {p['local_priority']}: must be 1..32765")
    delivery = LocalDelivery(
        tuple(dict.fromkeys(p["local_delivery"])), p["local_table"], p["local_priority"]
    )
    try:
        marks = parse_marks(p["rules"])
        use, facts = read_facts(run, marks, p["backend"], boot_dir, delivery=delivery)
        result = plan(marks, use, facts, delivery)
    except FwmarkError as exc:
        module.fail_json(msg=str(exc))

    boot_file = os.path.join(boot_dir, result.boot_file) if result.boot_file else None
    out = {
        "changed": result.changed,
        "backend": result.backend,
        "probe": {
            "nftables": facts.nft,
            "iptables_legacy": facts.legacy[4],
            "ip6tables_legacy": facts.legacy[6],
            "reason": facts.missing() if use is None else f"{use} works here",
        },
        "operations": result.operations,
        "commands": [str(c) for c in result.commands],
        "rules": result.after if not module.check_mode else result.before,
        "boot_file": boot_file,
        "boot_command": BOOT_COMMANDS[result.backend].format(path=boot_file) if boot_file else None,
        "local_boot_command": f"/bin/sh {os.path.join(boot_dir, LOCAL_BOOT_FILE)}"
        if delivery.marks
        else None,
    }
    if module._diff:
        out["diff"] = diff(result, facts, boot_dir)
    if module.check_mode or not result.changed:
        module.exit_json(**out)

    done = []
    for command in result.commands:
        rc, stdout, stderr = run(command.argv, data=command.data)
        if rc:
            module.fail_json(
                msg=f"`{' '.join(command.argv)}` failed: {(stderr or stdout).strip()}",
                applied=done,
                not_applied=[str(c) for c in result.commands[len(done) :]],
                **out,
            )
        done.append(str(command))
    try:
        if result.write and not os.path.isdir(boot_dir):
            os.makedirs(boot_dir, mode=0o755)
        for name, content in result.write.items():
            write_file(module, os.path.join(boot_dir, name), content)
        for name in result.remove:
            os.unlink(os.path.join(boot_dir, name))
    except OSError as exc:
        module.fail_json(msg=f"cannot write the boot files in {boot_dir}: {exc}", **out)

    # read back: the live rules must now be the wanted ones
    _, again = read_facts(run, marks, p["backend"], boot_dir, delivery=delivery)
    check = plan(marks, use, again, delivery)
    if check.commands:
        module.fail_json(
            msg="the marks differ from the wanted ones after the change: "
            + "; ".join(check.operations),
            **out,
        )
    out["rules"] = check.before
    module.exit_json(**out)


if __name__ == "__main__":
    main()
