# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster topology model: validated once, parsed once, projected per role.

The model lives in ``inventory/<profile>/group_vars`` (docs/topology.md) as a few
top-level variables; :func:`model_from_vars` gathers them without their ``lvs_`` prefix.
The hosts come as ``{name: {"lvs_interfaces": [...], "ansible_host": ...}}`` (a subset
of hostvars) and the groups as ``{"directors": [...], "realservers": [...]}``.

- :func:`validate` returns every problem as a message naming the offending item
  ([] when the model is sound);
- :func:`load` returns the typed, frozen :class:`schema.Model` of a sound model;
- :func:`build_plan` does both, once, and returns every host's role variables: the
  preflight play publishes it and every later play reads it (docs/architecture.md).

Layers: ``schema`` (dataclasses, defaults, constants), ``inventory`` (segments, host
interfaces, groups), ``check_*`` (the rules, by area), ``parse`` (plain data into the
typed model), ``project`` (typed model into role variables), ``applications`` (what
each application of the collection serves). Pure standard library, no Ansible imports.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model import (
    check_applications,
    check_directors,
    check_kernel,
    check_services,
    check_storage,
    project,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.inventory import (
    Inventory,
    Problems,
)
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.parse import parse
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.project import ModelError
from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model.schema import (
    DIRECTORS_GROUP,
    REALSERVERS_GROUP,
    STORAGE_GROUP,
    TOP_LEVEL,
    Model,
)

__all__ = [
    "DIRECTORS_GROUP",
    "REALSERVERS_GROUP",
    "STORAGE_GROUP",
    "Model",
    "ModelError",
    "build_plan",
    "disagreements",
    "load",
    "model_from_vars",
    "plain",
    "validate",
]

# one record per validation of a whole model: what a run's log can count
log = logging.getLogger("lvs.model")

# variables that earlier releases read and that must not pass unnoticed
OBSOLETE = ("topology", "web")


def model_from_vars(variables: Mapping) -> dict:
    """Collect the model from a host's variables (``lvs_vrrp`` -> ``vrrp``, ...)."""
    return {
        k: plain(variables.get("lvs_" + k))
        for k in (*TOP_LEVEL, *OBSOLETE)
        if variables.get("lvs_" + k) is not None
    }


def plain(value):
    """Deep copy into builtin types (inventory values may be str/dict subclasses)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _check(raw: Mapping, hosts: Mapping, groups: Mapping):
    log.info("validating the model: %d hosts", len(hosts or {}))
    problems = Problems()
    inv = Inventory(raw or {}, hosts, groups, problems)
    if not inv.segments_ok:
        return inv, {}, problems
    if "web" in inv.raw:
        inv.err(
            "lvs_web is no longer read: put the document root share under "
            "lvs_applications.web.shares.document_root"
        )
    check_directors.check_mode(inv)
    check_directors.check_groups(inv)
    if inv.mode == "keepalived":
        check_directors.check_vrrp(inv)
    vips = check_services.check_vips(inv)
    check_services.check_services(inv, vips)
    check_kernel.check_sync(inv)
    check_kernel.check_timeouts(inv)
    check_kernel.check_sysctls(inv)
    share_clients = check_storage.check_storage(inv)
    served = check_applications.check_applications(inv, share_clients)
    check_applications.check_served(inv, served)
    return inv, vips, problems


def validate(raw: Mapping, hosts: Mapping, groups: Mapping) -> list[str]:
    """Every problem in the model, each a message naming the item; [] when sound."""
    return _check(raw, hosts, groups)[2].messages


def load(raw: Mapping, hosts: Mapping, groups: Mapping) -> Model:
    """The typed model; :class:`ModelError` lists every problem of an unsound one."""
    inv, vips, problems = _check(raw, hosts, groups)
    if problems:
        raise ModelError(problems.messages)
    return parse(inv.raw, inv, vips)


def host_names(model: Model) -> list[str]:
    names = [h for h, _ in model.hosts]
    return names or [
        h for g in (DIRECTORS_GROUP, REALSERVERS_GROUP, STORAGE_GROUP) for h in model.group(g)
    ]


def build_plan(
    raw: Mapping, hosts: Mapping, groups: Mapping, controller: Mapping | None = None
) -> dict:
    """Every host's role variables, from one validation: {cluster, summary, hosts}.

    ``controller`` carries settings of the machine running the play, not of the
    cluster: ``pki_dir`` (where the web CA lives) or ``pki_root`` (one directory per
    cluster below it).
    """
    model = load(raw, hosts, groups)
    return plan_of(model, controller)


def plan_of(model: Model, controller: Mapping | None = None) -> dict:
    controller = dict(controller or {})
    return {
        "cluster": model.cluster_name,
        "summary": (
            f"cluster {model.cluster_name}: {len(model.directors)} director(s), "
            f"{len(model.group(REALSERVERS_GROUP))} real server(s), {len(model.vips)} VIP(s), "
            f"{len(model.services)} service(s), {len(model.applications)} application(s)"
        ),
        "hosts": {h: project.host_vars(model, h, controller) for h in host_names(model)},
    }


def disagreements(models: Mapping) -> list[str]:
    """Hosts that see a different model than the first (e.g. a host_vars override).

    ``models`` maps host name to its :func:`model_from_vars`; the model belongs in
    group_vars/all, so every director and real server must see the same one.
    """
    errors = []
    names = list(models)
    if not names:
        return errors
    first = names[0]
    for name in names[1:]:
        for key in sorted(set(models[first]) | set(models[name])):
            if models[first].get(key) != models[name].get(key):
                errors.append(
                    f"host {name} sees a different lvs_{key} than {first}: "
                    "the model belongs in group_vars/all"
                )
    return errors
