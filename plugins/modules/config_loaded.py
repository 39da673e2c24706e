#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: config_loaded
short_description: Make a service load its configuration files when they differ from what it loaded
description:
  - Compares the digest of configuration files with the digest recorded when the
    service last loaded them, and when they differ (or nothing is recorded) flushes the
    files to disk, runs the commands that make the service load them (a check, a reload)
    and records the new digest once every command succeeded.
  - Unlike a handler, the comparison happens on every run, so a run interrupted after
    writing a file and before the reload is repaired by the next run, which reloads.
  - Records live in O(state_dir) as C(<name>.sha256).
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
options:
  name:
    description:
      - Name of the record (one per service and set of files).
    type: str
    required: true
  paths:
    description:
      - The configuration files, in a fixed order. A missing file counts as a state of
        its own.
    type: list
    elements: path
    required: true
  commands:
    description:
      - Commands (argv lists, no shell) run in order when the files differ from the
        record; the first that fails stops the module and nothing is recorded.
    type: list
    elements: list
    required: true
  state_dir:
    description:
      - Where the records are kept; persistent, since a reboot starts the service from
        the same files.
    type: path
    default: /var/lib/lvs-cluster/loaded
attributes:
  check_mode:
    support: full
    description: Reports whether the service would load the files; runs nothing.
  diff_mode:
    support: full
    description: Shows the recorded and the current digest.
  idempotent:
    support: full
    description: A second run finds the record equal to the files and does nothing.
  platform:
    platforms: posix
    support: full
    description: Any host with the service's tools.
"""

EXAMPLES = r"""
- name: Keepalived runs the configuration on disk
  lvs.cluster.config_loaded:
    name: keepalived
    paths: [/etc/keepalived/keepalived.conf]
    commands:
      - [systemctl, reload-or-restart, keepalived.service]

- name: Nginx runs the configuration on disk
  lvs.cluster.config_loaded:
    name: nginx
    paths: [/etc/nginx/sites-available/lvs-web, /etc/nginx/lvs-web.pem]
    commands:
      - [nginx, -t]
      - [systemctl, reload-or-restart, nginx.service]
"""

RETURN = r"""
digest:
  description: The digest of the files now.
  returned: success
  type: str
recorded:
  description: The digest recorded before this run (null when none was).
  returned: success
  type: str
commands:
  description: The commands run (or that would run, in check mode).
  returned: success
  type: list
  elements: list
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils import loaded_config


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "paths": {"type": "list", "elements": "path", "required": True},
            "commands": {"type": "list", "elements": "list", "required": True},
            "state_dir": {"type": "path", "default": loaded_config.STATE_DIR},
        },
        supports_check_mode=True,
    )
    name, paths = module.params["name"], module.params["paths"]
    state_dir = module.params["state_dir"]
    commands = [[str(arg) for arg in command] for command in module.params["commands"]]
    if not loaded_config.NAME_RE.match(name):
        module.fail_json(msg=f"name {name!r}: letters, digits, '.', '_' and '-' only")
    if not commands or not all(commands):
        module.fail_json(msg="commands: give at least one non-empty argv list")
    current = loaded_config.digest(paths)
    before = loaded_config.recorded(name, state_dir)
    result = {
        "changed": current != before,
        "digest": current,
        "recorded": before,
        "commands": commands if current != before else [],
        "diff": {"before": f"loaded: {before}\n", "after": f"loaded: {current}\n"},
    }
    if not result["changed"] or module.check_mode:
        module.exit_json(**result)
    loaded_config.fsync_paths(paths)
    for command in commands:
        rc, out, err = module.run_command(command)
        if rc != 0:
            module.fail_json(
                msg=f"{' '.join(command)} failed ({rc}); nothing recorded, the next run "
                "tries again",
                stdout=out,
                stderr=err,
                **{k: v for k, v in result.items() if k != "changed"},
            )
    loaded_config.record(name, current, state_dir)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
