# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller side of lvs.cluster.topology_preflight (documented in plugins/modules/).

An action plugin rather than a module run on localhost: the check needs the whole
inventory (every host's lvs_interfaces, the groups, the model) that Ansible already holds
on the controller. A module would have to receive all of it serialised as arguments and
would need a Python interpreter and a connection, even a local one; here nothing leaves
the controller and no host, localhost included, is contacted. The logic itself is the
pure validator in plugins/module_utils/lvs_topology.py, unit-tested on its own.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase
from ansible_collections.lvs.cluster.plugins.module_utils import lvs_topology


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
        directors = groups.get(lvs_topology.DIRECTORS_GROUP) or names
        model_host = self._task.args.get("model_host") or directors[0]
        if model_host not in names:
            raise AnsibleActionFail(f"model_host {model_host} is not in the inventory")
        model = lvs_topology.model_from_vars(hostvars[model_host])
        hosts = {
            name: lvs_topology.plain(
                {
                    "ansible_host": hostvars[name].get("ansible_host"),
                    "lvs_interfaces": hostvars[name].get("lvs_interfaces") or [],
                }
            )
            for name in names
        }
        tiers = [*directors, *groups.get(lvs_topology.REALSERVERS_GROUP, [])]
        models = {model_host: model}
        models.update(
            (name, lvs_topology.model_from_vars(hostvars[name])) for name in tiers if name in names
        )
        errors = lvs_topology.disagreements(models) + lvs_topology.validate(model, hosts, groups)
        result["changed"] = False
        result["errors"] = errors
        if errors:
            result["failed"] = True
            result["msg"] = (
                f"the topology model has {len(errors)} problem(s), nothing was touched: "
                + " | ".join(errors)
            )
            return result
        services = model.get("services") or []
        result["topology"] = model.get("topology")
        result["msg"] = (
            f"topology {model.get('topology')}: {len(directors)} director(s), "
            f"{len(groups.get(lvs_topology.REALSERVERS_GROUP, []))} real server(s), "
            f"{len(model.get('vips') or [])} VIP(s), {len(services)} service(s): valid"
        )
        return result
