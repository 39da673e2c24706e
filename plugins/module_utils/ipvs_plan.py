# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planner: current IPVS table + desired services -> ordered operations.

No kernel, no I/O: facts in, operations out, so it is tested as tables. Settings that
the kernel can edit in place (scheduler, flags, persistence, weight, forwarding,
thresholds, tunnel) become SET operations; only identity changes delete and add.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace

from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import (
    Destination,
    Service,
    render_destination_line,
    render_service_line,
    service_spec,
)

OP_ORDER = ("add_service", "set_service", "add_dest", "set_dest", "del_dest", "del_service")


@dataclass
class Op:
    kind: str  # one of OP_ORDER
    service: Service
    dest: Destination | None = None

    def describe(self) -> str:
        """The change as the equivalent ipvsadm command line."""
        if self.kind == "add_service":
            return render_service_line(self.service)
        if self.kind == "set_service":
            return "-E" + render_service_line(self.service)[2:]
        if self.kind == "del_service":
            return f"-D {service_spec(self.service)}"
        if self.kind == "add_dest":
            return render_destination_line(self.service, self.dest)
        if self.kind == "set_dest":
            return "-e" + render_destination_line(self.service, self.dest)[2:]
        return f"-d {service_spec(self.service)} -r {self.dest.endpoint()}"


@dataclass
class Plan:
    ops: list[Op] = field(default_factory=list)
    # destinations (or services) left in place at weight 0 until their connections end
    draining: list[str] = field(default_factory=list)


def _dest_removal(plan: Plan, svc: Service, dest: Destination, drain: bool) -> bool:
    """Plan removing one destination; True if it is gone once the plan has run."""
    if not drain:
        plan.ops.append(Op("del_dest", svc, dest))
        return True
    if dest.weight != 0:
        plan.ops.append(Op("set_dest", svc, replace(dest, weight=0)))
        plan.draining.append(f"{svc.name()} -> {dest.endpoint()}")
        return False
    if dest.connections:
        plan.draining.append(f"{svc.name()} -> {dest.endpoint()}")
        return False
    plan.ops.append(Op("del_dest", svc, dest))
    return True


def _service_removal(plan: Plan, svc: Service, drain: bool) -> None:
    if not drain:
        plan.ops.append(Op("del_service", svc))
        return
    busy = False
    for dest in svc.sorted_destinations():
        if dest.weight != 0:
            plan.ops.append(Op("set_dest", svc, replace(dest, weight=0)))
            busy = True
        elif dest.connections:
            busy = True
    if busy:
        plan.draining.append(svc.name())
    else:
        plan.ops.append(Op("del_service", svc))


def plan(
    current: list[Service],
    desired: list[tuple[Service, str]],
    purge: bool = False,
    drain: bool = False,
) -> Plan:
    """Operations that turn `current` into `desired`.

    `desired` holds (service, state) pairs, state 'present' or 'absent'; a present
    service's destinations are the complete list. With `purge`, services in `current`
    that are not declared are removed. With `drain`, a destination to be removed is first
    set to weight 0 and deleted on a later run once it has no connections left.
    Operations come grouped per service (service, then its destinations), removals of
    whole services last, so a service never loses its old servers before it has its new.
    """
    result = Plan()
    have_all = {s.key: s for s in current}
    removals = []
    declared = set()
    for want, state in sorted(desired, key=lambda item: item[0].key):
        declared.add(want.key)
        have = have_all.get(want.key)
        if state == "absent":
            if have is not None:
                removals.append(have)
            continue
        if have is None:
            result.ops.append(Op("add_service", want))
            result.ops += [Op("add_dest", want, d) for d in want.sorted_destinations()]
            continue
        if have.settings() != want.settings():
            result.ops.append(Op("set_service", want))
        have_dests = {d.key: d for d in have.destinations}
        want_dests = {d.key: d for d in want.destinations}
        for key in sorted(want_dests):
            if key not in have_dests:
                result.ops.append(Op("add_dest", want, want_dests[key]))
        for key in sorted(want_dests):
            if key in have_dests and have_dests[key].settings() != want_dests[key].settings():
                result.ops.append(Op("set_dest", want, want_dests[key]))
        for key in sorted(set(have_dests) - set(want_dests)):
            _dest_removal(result, want, have_dests[key], drain)
    if purge:
        removals += [s for k, s in sorted(have_all.items()) if k not in declared]
    for svc in removals:
        _service_removal(result, svc, drain)
    return result


def simulate(current: list[Service], ops: list[Op]) -> list[Service]:
    """The table after `ops`, as the kernel would hold it (for diffs and check mode)."""
    # shallow copies: services are edited field by field, destinations only ever replaced
    table = {}
    for svc in current:
        table[svc.key] = copy.copy(svc)
        table[svc.key].destinations = list(svc.destinations)
    for op in ops:
        key = op.service.key
        if op.kind == "add_service":
            table[key] = replace(op.service, destinations=[], stats=None)
        elif op.kind == "set_service":
            svc = table[key]
            svc.scheduler, svc.flags = op.service.scheduler, op.service.flags
            svc.timeout, svc.netmask = op.service.timeout, op.service.netmask
            svc.pe_name = op.service.pe_name
        elif op.kind == "del_service":
            table.pop(key, None)
        elif op.kind == "add_dest":
            table[key].destinations.append(replace(op.dest, stats=None))
        elif op.kind == "set_dest":
            dests = table[key].destinations
            for i, dest in enumerate(dests):
                if dest.key == op.dest.key:
                    dests[i] = replace(
                        op.dest,
                        active_conns=dest.active_conns,
                        inactive_conns=dest.inactive_conns,
                        persistent_conns=dest.persistent_conns,
                        stats=dest.stats,
                    )
        elif op.kind == "del_dest":
            table[key].destinations = [d for d in table[key].destinations if d.key != op.dest.key]
    return sorted(table.values(), key=lambda s: s.key)
