"""`make demo`: bring up the web lab, converge site.yml on it, report what happened.

Leaves the lab up and says how to use it and take it down.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

from . import LabError, lab
from .paths import repo_root

LAB = "demo"
PROFILE = "web"


def _playbook(inventory: str) -> tuple[float, dict[str, dict[str, int]], str]:
    began = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", f"inventory/{PROFILE}", "-i", inventory, "site.yml"],
        cwd=repo_root(),
        capture_output=True,
        text=True,
    )
    took = time.monotonic() - began
    recap = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", proc.stdout, re.M):
        recap[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n")
        raise LabError(f"site.yml failed (exit {proc.returncode})")
    return took, recap, proc.stdout


def main() -> int:
    try:
        lab.up(PROFILE, LAB)
        state = lab.status(LAB)
        print()
        print(lab.format_status(state))
        print("\n== site.yml, first run (bare guests) ==")
        took, recap, _ = _playbook(state["inventory"])
        for host, c in sorted(recap.items()):
            print(f"  {host:<10} ok={c['ok']:<3} changed={c['changed']:<3} failed={c['failed']}")
        print(f"  took {took:.1f} s")
        print("\n== site.yml, second run (must change nothing) ==")
        took2, recap2, _ = _playbook(state["inventory"])
        changed = sum(c["changed"] for c in recap2.values())
        print(f"  changed={changed} on {len(recap2)} hosts, took {took2:.1f} s")
        print("\n== what the directors' kernels run now ==")
        for guest in [g for g in state["guests"] if g.startswith("dir")]:
            out = subprocess.run(
                [
                    "ssh",
                    "-F",
                    state["ssh_config"],
                    guest,
                    "echo $(grep -o '^ip_vs[a-z_]*' /proc/modules | sort | tr '\\n' ' '); "
                    "ipvsadm -Ln | head -1",
                ],
                capture_output=True,
                text=True,
            ).stdout.strip()
            print(f"  {guest}: {out}")
        print(
            f"\nThe lab stays up. Try:\n  lvslab status --name {LAB}\n"
            f"  lvslab ssh --name {LAB} dir1 -- ipvsadm -Ln\n"
            f"  lvslab client --name {LAB} -- nc -zv 192.0.2.11 22\n"
            f"Take it down with:\n  .venv/bin/lvslab down --name {LAB}"
        )
        return 1 if changed else 0
    except LabError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
