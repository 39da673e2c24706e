# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Can a host do what the model asks of it? Facts in, problems out.

Read before anything is changed (playbooks/capabilities.py): the kernel modules the
host's part needs (IPVS and the schedulers in use on a director, dummy for DR and ipip
for TUN on a real server, nfsd on an NFS server, fuse on a GlusterFS client), the
interfaces the inventory names, and a packet-mark backend where fwmark services exist.
Pure standard library; :func:`read_facts` reads a Linux host's /sys and /lib/modules.
"""

from __future__ import annotations

import os
import re


def module_name(name: str) -> str:
    """Kernel module names compare with '-' and '_' alike."""
    return name.replace("-", "_")


def read_facts(release: str | None = None, root: str = "/") -> dict:
    """Loaded and available kernel modules, and the network interfaces, of this host."""
    release = release or os.uname().release
    base = os.path.join(root, "lib/modules", release)
    available: set[str] = set()
    for listing in ("modules.dep", "modules.builtin"):
        try:
            with open(os.path.join(base, listing), encoding="utf-8") as handle:
                for line in handle:
                    path = line.split(":", 1)[0].strip()
                    if path:
                        available.add(
                            module_name(re.sub(r"\.ko(\.\w+)?$", "", path).rsplit("/", 1)[-1])
                        )
        except FileNotFoundError:
            pass
    sys_module = os.path.join(root, "sys/module")
    loaded = (
        {module_name(m) for m in os.listdir(sys_module)} if os.path.isdir(sys_module) else set()
    )
    sys_net = os.path.join(root, "sys/class/net")
    interfaces = set(os.listdir(sys_net)) if os.path.isdir(sys_net) else set()
    return {
        "release": release,
        "available_modules": sorted(available),
        "loaded_modules": sorted(loaded),
        "interfaces": sorted(interfaces),
    }


def problems(wanted: dict, facts: dict) -> list[str]:
    """What this host lacks: each message names the missing thing and why it is needed.

    ``wanted``: {"modules": {name: why}, "interfaces": [names]}; the packet-mark backend
    is probed by fwmark.probe_backend.
    """
    have = {module_name(m) for m in facts["available_modules"]}
    have |= {module_name(m) for m in facts["loaded_modules"]}
    out = []
    for name, why in (wanted.get("modules") or {}).items():
        if module_name(name) not in have:
            release = facts["release"]
            out.append(f"kernel module {name} ({why}) is neither loaded nor available in {release}")
    for nic in wanted.get("interfaces") or []:
        if nic not in facts["interfaces"]:
            found = ", ".join(n for n in facts["interfaces"] if n != "lo") or "none"
            out.append(f"interface {nic} (lvs_interfaces) does not exist (found: {found})")
    return out
