#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: glusterfs_volume
short_description: Create, start, tune, stop and delete a GlusterFS volume
description:
  - Creates a missing volume with C(gluster volume create), starts or stops it, and sets
    the declared volume options; deletes it with O(state=absent).
  - An existing volume is compared with the declared O(bricks), O(replica), O(arbiter)
    and O(transport); if they differ the module fails and names both layouts. It never
    adds, removes or replaces bricks. Without O(bricks) the layout is not compared.
  - Options are compared as text with the volume's reconfigured options (C(Options
    Reconfigured) of C(gluster volume info)); only those that differ are set. Options set
    on the volume but not declared are left alone unless O(purge_options=true).
  - Every gluster call runs with C(--mode=script --xml), so nothing prompts and errors
    come back as glusterd's own sentence.
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
requirements:
  - glusterd running on the target, and every brick's host in its trusted pool
    (M(lvs.cluster.glusterfs_peer)).
options:
  name:
    description:
      - Volume name.
    type: str
    required: true
  bricks:
    description:
      - Bricks as C(host:/path), in gluster's order (each run of O(replica) consecutive
        bricks is one replica set). Required to create the volume.
      - glusterd makes the brick directory itself, but not its parents; reusing a brick
        directory of a deleted volume needs O(force) (and keeps its old data).
    type: list
    elements: str
  replica:
    description:
      - Copies of each file; the number of bricks must be a multiple of it. V(1) or
        omitted makes a plain distributed volume.
    type: int
  arbiter:
    description:
      - V(1) with O(replica=3) makes the third brick of each set an arbiter (metadata
        only), as C(replica 3 arbiter 1) does on the gluster command line.
    type: int
    choices: [0, 1]
  transport:
    description:
      - Transport of a new volume; compared with an existing one when O(bricks) is given.
    type: str
    choices: [tcp, rdma, "tcp,rdma"]
    default: tcp
  force:
    description:
      - Append C(force) to C(volume create), for layouts glusterd refuses by default,
        e.g. bricks on the root file system or several bricks of one replica set on one
        host. Used only when the volume is created.
    type: bool
    default: false
  options:
    description:
      - Volume options by full name (C(network.ping-timeout), not C(ping-timeout)).
        Booleans become C(on)/C(off), numbers text; values are compared as text.
    type: dict
    default: {}
  purge_options:
    description:
      - Reset (C(gluster volume reset)) the options set on the volume that are not in
        O(options), except those glusterd sets itself when it creates a volume
        (C(storage.fips-mode-rchecksum), C(transport.address-family), C(nfs.disable),
        C(cluster.granular-entry-heal), C(performance.client-io-threads)).
    type: bool
    default: false
  state:
    description:
      - V(started) creates the volume if needed and starts it.
      - V(present) creates the volume if needed, and neither starts nor stops it.
      - V(stopped) creates the volume if needed and stops it if it runs.
      - V(absent) stops and deletes the volume; the brick directories and their data stay.
    type: str
    choices: [started, present, stopped, absent]
    default: started
attributes:
  check_mode:
    support: full
    description: Computes every gluster command that would run, runs none but C(volume info).
  diff_mode:
    support: full
    description: Shows the volume before and after as text (type, status, bricks,
      reconfigured options).
  idempotent:
    support: full
    description: A second run with the same arguments changes nothing.
notes:
  - Run it on one node of the pool; glusterd applies the change on all of them.
  - Order of a new volume's commands is create, start, then one C(volume set) per option.
  - In check mode the volume after a create is a prediction, including the options
    glusterd 10 adds to a new volume.
seealso:
  - module: lvs.cluster.glusterfs_peer
"""

EXAMPLES = r"""
- name: A replicated volume over three storage nodes
  lvs.cluster.glusterfs_volume:
    name: www
    bricks:
      - 198.51.100.41:/srv/gluster/www/brick
      - 198.51.100.42:/srv/gluster/www/brick
      - 198.51.100.43:/srv/gluster/www/brick
    replica: 3
    options:
      network.ping-timeout: 5
      performance.cache-size: 64MB
    state: started

- name: Two data bricks and an arbiter, on the root file system
  lvs.cluster.glusterfs_volume:
    name: conf
    bricks:
      - 198.51.100.41:/srv/gluster/conf
      - 198.51.100.42:/srv/gluster/conf
      - 198.51.100.43:/srv/gluster/conf-arbiter
    replica: 3
    arbiter: 1
    force: true

- name: Tune an existing volume without restating its layout
  lvs.cluster.glusterfs_volume:
    name: www
    options:
      features.cache-invalidation: true
    purge_options: true

- name: Delete it (the bricks' directories stay)
  lvs.cluster.glusterfs_volume:
    name: www
    state: absent
"""

RETURN = r"""
volume:
  description:
    - The volume after the change, read back from glusterd (predicted in check mode);
      empty when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: Volume name.
      type: str
    status:
      description: C(Created) (never started), C(Started) or C(Stopped).
      type: str
    type:
      description: glusterd's volume type, e.g. C(Replicate), C(Distribute),
        C(Distributed-Replicate).
      type: str
    replica:
      description: Replica count (1 for a distributed volume).
      type: int
    arbiter:
      description: Arbiter count (0 or 1).
      type: int
    bricks:
      description: Bricks as C(host:/path), in order.
      type: list
      elements: str
    options:
      description: The reconfigured options, name to value as text.
      type: dict
  sample:
    name: www
    status: Started
    type: Replicate
    replica: 3
    arbiter: 0
    bricks: [198.51.100.41:/srv/gluster/www/brick, 198.51.100.42:/srv/gluster/www/brick,
             198.51.100.43:/srv/gluster/www/brick]
    options: {network.ping-timeout: "5", nfs.disable: "on"}
commands:
  description: The gluster commands run (in check mode, that would run), in order.
  returned: always
  type: list
  elements: str
  sample: ["gluster --mode=script --xml volume set www network.ping-timeout 5"]
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.glusterfs import (
    GlusterError,
    InvalidSpec,
    apply_volume,
    plan_volume,
    read_volume,
    render_volume,
    volume_spec,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "bricks": {"type": "list", "elements": "str"},
            "replica": {"type": "int"},
            "arbiter": {"type": "int", "choices": [0, 1]},
            "transport": {"type": "str", "default": "tcp", "choices": ["tcp", "rdma", "tcp,rdma"]},
            "force": {"type": "bool", "default": False},
            "options": {"type": "dict", "default": {}},
            "purge_options": {"type": "bool", "default": False},
            "state": {
                "type": "str",
                "default": "started",
                "choices": ["started", "present", "stopped", "absent"],
            },
        },
        supports_check_mode=True,
    )
    try:
        spec = volume_spec(**module.params)
    except InvalidSpec as exc:
        module.fail_json(msg=str(exc))
    run = module.run_command
    try:
        before = read_volume(run, spec.name)
        plan = plan_volume(spec, before)
    except GlusterError as exc:
        module.fail_json(msg=str(exc), volume={}, commands=[])

    result = {"changed": plan.changed, "commands": [str(step) for step in plan.steps]}
    after = plan.after
    if plan.changed and not module.check_mode:
        try:
            for warning in apply_volume(run, plan):
                module.warn(warning)
            after = read_volume(run, spec.name)
        except GlusterError as exc:
            try:
                now = read_volume(run, spec.name)
            except GlusterError:
                now = None
            module.fail_json(msg=str(exc), volume=now.to_dict() if now else {}, **result)
    result["volume"] = after.to_dict() if after is not None else {}
    if module._diff:
        result["diff"] = {"before": render_volume(before), "after": render_volume(after)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
