#!/usr/bin/env python3
"""Time from `lvslab up` to every guest answering ssh, for 1, 3 and 5 guests.

The guests are the first N hosts of inventory/web (directors, then real servers),
booted in parallel; each size is measured several times on a fresh lab.
Usage: python bench/lab_boot.py [--runs 3] [--sizes 1,3,5]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import time

from lvslab import image, lab, topology


def boot_once(n: int, name: str) -> tuple[float, float]:
    topo = topology.load("web")
    topo.guests = topo.guests[:n]
    with contextlib.redirect_stdout(io.StringIO()):
        took = lab.up_topology(topo, name)
        began = time.monotonic()
        lab.down(name)
    return took, time.monotonic() - began


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", default="1,3,5")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    image.build()
    name = "bench-boot"
    lab.down(name, quiet=True)
    print(
        f"lab boot: time to ssh-ready, {args.runs} runs per size "
        f"({image.uml_kernel_version()} UML, 256M guests)"
    )
    print(f"{'guests':>6}  {'min s':>6}  {'median s':>8}  {'max s':>6}  {'down s':>6}  runs")
    for n in sizes:
        ups, downs = [], []
        for _ in range(args.runs):
            took, down = boot_once(n, name)
            ups.append(took)
            downs.append(down)
        runs = " ".join(f"{t:.1f}" for t in ups)
        print(
            f"{n:>6}  {min(ups):>6.1f}  {statistics.median(ups):>8.1f}  {max(ups):>6.1f}  "
            f"{statistics.median(downs):>6.2f}  {runs}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
