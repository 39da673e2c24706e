#!/usr/bin/python
# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ipvs_timeouts
short_description: Set IPVS connection timeouts
description:
  - Sets the IPVS timeouts for established TCP connections, TCP connections after a FIN,
    and UDP, like C(ipvsadm --set). Timeouts left out are not changed.
version_added: "0.1.0"
author:
  - lvs.cluster maintainers (@lvs-cluster)
options:
  tcp:
    description:
      - Timeout of established TCP connections in seconds (kernel default 900).
    type: int
  tcp_fin:
    description:
      - Timeout of TCP connections after a FIN in seconds (kernel default 120).
    type: int
  udp:
    description:
      - Timeout of UDP flows in seconds (kernel default 300).
    type: int
extends_documentation_fragment:
  - lvs.cluster.ipvs
attributes:
  check_mode:
    support: full
    description: Reports the change, makes none.
  diff_mode:
    support: full
    description: Shows the timeouts before and after as C(ipvsadm -L --timeout) prints them.
seealso:
  - module: lvs.cluster.ipvs
"""

EXAMPLES = r"""
- name: Keep idle TCP connections for an hour
  lvs.cluster.ipvs_timeouts:
    tcp: 3600
    tcp_fin: 60
    udp: 300
"""

RETURN = r"""
timeouts:
  description: The timeouts after the change, in seconds.
  returned: success
  type: dict
  sample: {tcp: 3600, tcp_fin: 60, udp: 300}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs import (
    IPVS,
    IPVSUnavailable,
    NetlinkError,
    run_with,
)
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import Timeouts

# the kernel keeps timeouts in jiffies in an int: INT_MAX / HZ at HZ=1000
MAX_TIMEOUT = 2147483


def main():
    module = AnsibleModule(
        argument_spec={name: {"type": "int"} for name in ("tcp", "tcp_fin", "udp")},
        required_one_of=[("tcp", "tcp_fin", "udp")],
        supports_check_mode=True,
    )
    wanted = {
        k: module.params[k] for k in ("tcp", "tcp_fin", "udp") if module.params[k] is not None
    }
    for name, value in wanted.items():
        if not 1 <= value <= MAX_TIMEOUT:
            module.fail_json(msg=f"{name} must be from 1 to {MAX_TIMEOUT} seconds, got {value}")
    ipvs = None
    try:
        ipvs = IPVS(load=not module.check_mode, run=run_with(module))
        before = ipvs.timeouts()
    except IPVSUnavailable as exc:
        if not module.check_mode:
            module.fail_json(msg=str(exc))
        before = Timeouts()  # what the module would start with once loaded
    except (NetlinkError, OSError) as exc:
        module.fail_json(msg=f"cannot read IPVS timeouts: {exc}")

    after = Timeouts(**{**before.to_dict(), **wanted})
    changed = after != before
    result = {"changed": changed}
    if module._diff:
        result["diff"] = {"before": before.render() + "\n", "after": after.render() + "\n"}
    if changed and not module.check_mode:
        try:
            ipvs.set_timeouts(**{k: v for k, v in wanted.items() if getattr(before, k) != v})
            after = ipvs.timeouts()
        except NetlinkError as exc:
            module.fail_json(msg=f"cannot set IPVS timeouts: {exc}", **result)
    if ipvs is not None:
        ipvs.close()
    result["timeouts"] = after.to_dict()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
