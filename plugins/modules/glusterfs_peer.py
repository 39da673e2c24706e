#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: glusterfs_peer
short_description: Build a GlusterFS trusted storage pool
description:
  - Probes the listed peers that are not yet in this node's trusted storage pool, with
    C(gluster peer probe), then waits until every listed peer is C(Peer in Cluster) and
    connected. A probe returns before the peer has joined, and a C(volume create) issued
    at that moment fails; the wait closes that gap.
  - The local node may be in the list and is skipped. It is recognised by one of its
    addresses (C(ip -o addr)), its host name, C(localhost), or a name that resolves to one
    of its addresses.
  - A listed peer is found in the pool by any of the names glusterd knows it by, or by the
    addresses its name resolves to, so a peer probed by address and listed by name is not
    probed again.
  - Peers in the pool that are not listed are left alone. With O(state=absent), the listed
    peers are detached instead.
  - Every gluster call runs with C(--mode=script), so nothing prompts.
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
requirements:
  - glusterd running on the target (glusterfs-server).
options:
  peers:
    description:
      - Addresses or host names of the nodes that must be in the trusted storage pool.
    type: list
    elements: str
    required: true
  timeout:
    description:
      - Seconds to wait for every listed peer to be C(Peer in Cluster) and connected,
        whether it was probed now or was in the pool already. The module fails after
        this, naming the peers still missing and their state. V(0) does not wait.
      - Not used in check mode and with O(state=absent).
    type: float
    default: 60
  state:
    description:
      - V(present) probes the listed peers missing from the pool and waits for all of them.
      - V(absent) detaches the listed peers that are in the pool (C(gluster peer detach));
        glusterd refuses while a peer holds bricks of a volume.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    description: Reports which peers would be probed or detached; probes, detaches and
      waits for nothing.
  diff_mode:
    support: full
    description: Shows the pool before and after, one peer a line, as C(gluster pool list)
      knows it.
  idempotent:
    support: full
    description: Changes only when a peer is probed or detached.
notes:
  - Run it on one node of the pool; glusterd spreads the membership to the others.
  - A new peer's UUID is unknown until it is probed, so the diff of a check run shows
    C((uuid on probe)) in its place.
seealso:
  - module: lvs.cluster.glusterfs_volume
"""

EXAMPLES = r"""
- name: Three storage nodes in one pool, run on the first one
  lvs.cluster.glusterfs_peer:
    peers:
      - 198.51.100.41
      - 198.51.100.42
      - 198.51.100.43
    timeout: 90
  when: inventory_hostname == groups['storage'][0]

- name: Take a node out of the pool
  lvs.cluster.glusterfs_peer:
    peers: [198.51.100.43]
    state: absent
"""

RETURN = r"""
peers:
  description:
    - The pool after the change, this node included (its RV(peers[].hostname) is
      C(localhost), its state null, and local true).
    - In check mode, the pool as it is now.
  returned: always
  type: list
  elements: dict
  contains:
    hostname:
      description: The name glusterd knows the peer by (the one it was probed with).
      type: str
    uuid:
      description: The peer's glusterd UUID.
      type: str
    state:
      description: glusterd's state of the peer, e.g. C(Peer in Cluster); null for this node.
      type: str
    connected:
      description: Whether this node's glusterd is connected to the peer.
      type: bool
    local:
      description: Whether the entry is this node.
      type: bool
  sample:
    - {hostname: localhost, uuid: be118d12-0c56-4e33-96a0-4546922942fe, state: null,
       connected: true, local: true}
    - {hostname: 198.51.100.43, uuid: 23bdee38-dd63-4d7a-ac2b-06c5c8a2f5e6,
       state: Peer in Cluster, connected: true, local: false}
probed:
  description: The listed peers that were (in check mode, would be) probed, in order.
  returned: always
  type: list
  elements: str
  sample: [198.51.100.43]
detached:
  description: The listed peers that were (in check mode, would be) detached.
  returned: always
  type: list
  elements: str
  sample: []
local:
  description: The listed names that are this node and were skipped.
  returned: always
  type: list
  elements: str
  sample: [198.51.100.41]
"""

import socket

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.glusterfs import (
    GlusterError,
    call,
    expect_ok,
    local_names,
    parse_ip_addr,
    plan_peers,
    read_pool,
    render_pool,
    wait_for_peers,
)


def resolver(cache):
    def resolve(name):
        if name not in cache:
            try:
                cache[name] = {info[4][0] for info in socket.getaddrinfo(name, None)}
            except (OSError, UnicodeError):
                cache[name] = set()
        return cache[name]

    return resolve


def main():
    module = AnsibleModule(
        argument_spec={
            "peers": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "float", "default": 60},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        supports_check_mode=True,
    )
    wanted = module.params["peers"]
    timeout = module.params["timeout"]
    state = module.params["state"]
    if timeout < 0:
        module.fail_json(msg=f"timeout must be 0 or more seconds, got {timeout:g}")
    run = module.run_command

    rc, out, err = run(["ip", "-o", "addr"])
    if rc:
        module.fail_json(msg=f"cannot list this node's addresses with `ip -o addr`: {err}")
    hostnames = {socket.gethostname(), socket.getfqdn()}
    cache = {}
    resolve = resolver(cache)
    local = local_names(wanted, parse_ip_addr(out), hostnames, resolve)
    aliases = {name: resolve(name) for name in wanted if name not in local}

    try:
        before = read_pool(run)
        plan = plan_peers(wanted, before, local, state, aliases)
    except GlusterError as exc:
        module.fail_json(msg=str(exc))

    result = {
        "changed": plan.changed,
        "probed": plan.probe,
        "detached": plan.detach,
        "local": plan.local,
        "peers": [p.to_dict() for p in before],
    }
    if module.check_mode:
        if module._diff:
            result["diff"] = {"before": render_pool(before), "after": render_pool(plan.after)}
        module.exit_json(**result)

    done = []
    try:
        for verb, name in plan.steps():
            expect_ok(call(run, "peer", verb, name), f"gluster peer {verb} {name}")
            done.append(f"{verb} {name}")
        if state == "present" and plan.wait_for and timeout > 0:
            after = wait_for_peers(lambda: read_pool(run), plan.wait_for, timeout, aliases)
        else:
            after = read_pool(run) if plan.changed else before
    except GlusterError as exc:
        before_it = f" (done before: {', '.join(done)})" if done else ""
        module.fail_json(msg=f"{exc}{before_it}", **result)
    result["peers"] = [p.to_dict() for p in after]
    if module._diff:
        result["diff"] = {"before": render_pool(before), "after": render_pool(after)}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
