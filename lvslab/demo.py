"""`make demo`: bring up the web cluster, converge site.yml, show it working and failing
over, from live measurements. Leaves the lab up and says how to take it down.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time

from . import LabError, lab
from .paths import repo_root
from .testing import Lab

LAB = "demo"
PROFILE = "web"
VIPS = [
    ("DR", "192.0.2.100", "rr"),
    ("TUN", "192.0.2.101", "wrr 3:2:1"),
    ("NAT", "192.0.2.102", "rr"),
]


def _playbook(inventory: str) -> tuple[float, dict[str, dict[str, int]]]:
    began = time.monotonic()
    proc = subprocess.run(
        ["ansible-playbook", "-i", f"inventory/{PROFILE}", "-i", inventory, "site.yml"],
        cwd=repo_root(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    took = time.monotonic() - began
    recap = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", proc.stdout, re.M):
        recap[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    if proc.returncode:
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n")
        raise LabError(f"site.yml failed (exit {proc.returncode})")
    return took, recap


def _holds(demo: Lab, guest: str, address: str) -> bool:
    out = demo.ssh("ip -o -4 addr show", guest=guest, check=False, timeout=20).stdout
    return f" {address}/" in out


def _wait(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def _failover(demo: Lab) -> None:
    vip = VIPS[0][1]
    result: dict = {}
    watcher = threading.Thread(
        target=lambda: result.update(
            demo.probe("watch", f"http://{vip}/", "--seconds", "12", "--interval", "0.05")
        )
    )
    watcher.start()
    time.sleep(3)
    demo.lvslab("crash", "dir1")
    crashed = time.monotonic()
    _wait(lambda: _holds(demo, "dir2", vip), 30)
    print(
        f"  dir1 crashed (power cut); dir2 holds {vip} after "
        f"{time.monotonic() - crashed:.1f} s (seen over ssh)"
    )
    watcher.join()
    print(
        f"  a client asking every 0.05 s saw its longest gap without answers: "
        f"{result['longest_gap_s']:.2f} s ({result['failures']} requests timed out)"
    )
    began = time.monotonic()
    demo.lvslab("start", "dir1")
    back = _wait(lambda: _holds(demo, "dir1", vip), 120)
    state = "took the VIPs back" if back else "did not take the VIPs back"
    print(
        f"  dir1 rebooted and {state} after {time.monotonic() - began:.1f} s "
        "(boot, then the preempt delay that lets connection sync refill it)"
    )


def main() -> int:
    try:
        lab.up(PROFILE, LAB)
        state = lab.status(LAB)
        demo = Lab(LAB)
        print()
        print(lab.format_status(state))
        print("\n== site.yml, first run ==")
        took, recap = _playbook(state["inventory"])
        for host, c in sorted(recap.items()):
            print(f"  {host:<10} ok={c['ok']:<3} changed={c['changed']:<3} failed={c['failed']}")
        print(f"  took {took:.1f} s")
        print("\n== site.yml, second run (must change nothing) ==")
        took2, recap2 = _playbook(state["inventory"])
        changed = sum(c["changed"] for c in recap2.values())
        print(f"  changed={changed} on {len(recap2)} hosts, took {took2:.1f} s")
        print("\n== 30 new connections from the client side to each VIP ==")
        time.sleep(2)  # health checks admit every real server
        for method, vip, sched in VIPS:
            res = demo.probe("split", f"http://{vip}/", "--count", "30")
            split = "  ".join(f"{rs}={n}" for rs, n in res["servers"].items())
            print(f"  {method:<4}{vip}  {sched:<10} {split}  errors={len(res['errors'])}")
        print("\n== one file written on the NFS server, fetched through the DR VIP ==")
        stamp = time.strftime("%H:%M:%S")
        demo.ssh(f"echo written at {stamp} > /srv/nfs/www/demo.txt", guest="nfs1")
        res = demo.probe("split", "http://192.0.2.100/demo.txt", "--count", "9", "--body")
        split = "  ".join(f"{rs}={n}" for rs, n in res["servers"].items())
        print(f"  {split}  bodies={res.get('bodies')}  errors={len(res['errors'])}")
        print("\n== the master director fails ==")
        _failover(demo)
        print(
            f"\nThe lab stays up. Try:\n  .venv/bin/lvslab status --name {LAB}\n"
            f"  .venv/bin/lvslab ssh --name {LAB} dir1 -- ipvsadm -Ln\n"
            f"  .venv/bin/lvslab client --name {LAB} -- curl -sI http://192.0.2.100/\n"
            f"Take it down with:\n  .venv/bin/lvslab down --name {LAB}"
        )
        return 1 if changed else 0
    except LabError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
