# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of lvs.cluster.topology_preflight (documented in plugins/modules/).

An action plugin rather than a module run on localhost: the check needs the whole
inventory (every host's lvs_interfaces, the groups, the model) that Ansible already holds
on the controller. A module would have to receive all of it serialised as arguments and
would need a Python interpreter and a connection, even a local one; here nothing leaves
the controller and no host, localhost included, is contacted. The logic itself is the
pure model package in plugins/module_utils/lvs_model/, unit-tested on its own.

The model is validated and projected once here; the plan it returns (every host's role
variables) is what the later plays read (playbooks/preflight.yml publishes it).
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.lvs.cluster.plugins.module_utils import lvs_model

# where the web application's CA lives on the controller, one directory per cluster
PKI_ROOT = "~/.local/share/lvs-cluster/pki"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(("model_host",))

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        hostvars = task_vars.get("hostvars", {})
        groups = {name: list(members) for name, members in task_vars.get("groups", {}).items()}
        names = groups.get("all", [])
        if not names:
            raise AnsibleActionFail("the inventory has no hosts: pass -i inventory/<profile>")
        # the model sits in group_vars/all; read it as the first director sees it
        directors = groups.get(lvs_model.DIRECTORS_GROUP) or names
        model_host = self._task.args.get("model_host") or directors[0]
        if model_host not in names:
            raise AnsibleActionFail(f"model_host {model_host} is not in the inventory")
        model = lvs_model.model_from_vars(hostvars[model_host])
        hosts = {
            name: lvs_model.plain(
                {
                    "ansible_host": hostvars[name].get("ansible_host"),
                    "lvs_interfaces": hostvars[name].get("lvs_interfaces") or [],
                }
            )
            for name in names
        }
        tiers = [*directors, *groups.get(lvs_model.REALSERVERS_GROUP, [])]
        models = {model_host: model}
        models.update(
            (name, lvs_model.model_from_vars(hostvars[name])) for name in tiers if name in names
        )
        errors = lvs_model.disagreements(models)
        plan = None
        if not errors:
            pki_dir = hostvars[model_host].get("lvs_pki_dir")
            controller = {"pki_dir": pki_dir, "pki_root": os.path.expanduser(PKI_ROOT)}
            try:
                plan = lvs_model.build_plan(model, hosts, groups, controller)
            except lvs_model.ModelError as exc:
                errors = exc.problems
        result["changed"] = False
        result["errors"] = errors
        if errors:
            result["failed"] = True
            result["msg"] = (
                f"the topology model has {len(errors)} problem(s), nothing was touched: "
                + " | ".join(errors)
            )
            return result
        result["plan"] = plan
        result["cluster"] = plan["cluster"]
        result["msg"] = f"{plan['summary']}: valid"
        return result
