"""Cache cluster benchmark: what the scheduler and ICP do to the origin's load.

    .venv/bin/python bench/cache_hit.py [--passes 3] [--name bench-cache] [--keep]

Brings the cache lab up (lvslab), converges site.yml, then for each arrangement empties
every cache (squid stopped, its disk cache re-initialised with squid -z, started again:
memory goes too), fetches the same URL set (24 origin addresses x 4 objects, from three
client addresses, 8 at a time, every body checked) --passes times, and counts from the
origin's access log and the caches' squid logs:

  - origin fetches per request and per object: what reached the origin;
  - hit ratio: requests answered from a cache (squid's *HIT codes, SIBLING_HIT fetches
    count as misses of the cache asked but not of the cluster);
  - origin addresses spread over more than one cache.

Arrangements: rr without ICP (the caches' cache_peer lines removed), rr with ICP, lblc
and lblcr (with ICP, as the profile ships). The scheduler is changed on the master with
ipvsadm -E for the run (keepalived does not reset a service's scheduler), the peers with
squid -k reconfigure; the profile's configuration is put back at the end. Prints a
table; nothing is asserted. The lab goes down at the end unless --keep.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from lvslab.testing import Lab, converge, log, up
from lvslab.webcache import CACHES, CLIENTS, fetch, origin_fetches, squid_log, url_set

ARRANGEMENTS = [("rr", False), ("rr", True), ("lblc", True), ("lblcr", True)]


def empty_caches(lab: Lab, icp: bool) -> None:
    """Every cache cold, with the profile's squid.conf, or that without its siblings."""
    conf = "/etc/squid/squid.conf"
    peers = "" if icp else f"sed -i '/^cache_peer /d' {conf} && "
    for cache in CACHES:
        lab.ssh(
            f"([ -f {conf}.profile ] || cp {conf} {conf}.profile) && cp {conf}.profile {conf} && "
            f"{peers}systemctl stop squid && rm -rf /var/spool/squid/* && "
            "squid -z --foreground && : > /var/log/squid/access.log && systemctl start squid",
            guest=cache,
        )


def restore(lab: Lab) -> None:
    for cache in CACHES:
        lab.ssh(
            "if [ -f /etc/squid/squid.conf.profile ]; then mv /etc/squid/squid.conf.profile "
            "/etc/squid/squid.conf && systemctl restart squid; fi",
            guest=cache,
        )
    master = master_of(lab)
    lab.ssh("ipvsadm -E -f 1 -s lblc", guest=master)


def master_of(lab: Lab) -> str:
    for director in ("dir1", "dir2"):
        if " 192.0.2.120/" in lab.ssh("ip -o -4 addr show", guest=director).stdout:
            return director
    raise SystemExit("no director holds the cache VIP")


def measure(lab: Lab, scheduler: str, icp: bool, passes: int) -> dict:
    master = master_of(lab)
    lab.ssh(f"ipvsadm -E -f 1 -s {scheduler}", guest=master)
    for director in ("dir1", "dir2"):
        if director != master:  # the backup's table is the master's after a failover
            lab.ssh(f"ipvsadm -E -f 1 -s {scheduler}", guest=director)
    empty_caches(lab, icp)
    time.sleep(4)  # the health checks see every squid again
    urls = url_set()
    before = origin_fetches(lab)
    failed = 0
    for _ in range(passes):
        failed += sum(1 for r in fetch(lab, urls) if not r["ok"])
    fetched = origin_fetches(lab) - before
    requests = len(urls) * passes
    served = [e for c in CACHES for e in squid_log(lab, c) if e["client"] in CLIENTS]
    hits = sum(1 for e in served if "HIT" in e["code"])
    caches_of = defaultdict(set)
    for entry in served:
        caches_of[entry["url"].split("/")[2]].add(entry["cache"])
    return {
        "arrangement": f"{scheduler} {'with' if icp else 'without'} ICP",
        "requests": requests,
        "failed": failed,
        "origin_per_request": sum(fetched.values()) / requests,
        "origin_per_object": sum(fetched.values()) / len(urls),
        "hit_ratio": hits / max(1, len(served)),
        "spread": sum(1 for caches in caches_of.values() if len(caches) > 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--name", default="bench-cache")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    lab, _ = up("cache", args.name)
    try:
        log("converging site.yml")
        converge(lab, Path(f"/tmp/{args.name}-converge.log"))
        rows = []
        for scheduler, icp in ARRANGEMENTS:
            log(f"{scheduler}, ICP {'on' if icp else 'off'}")
            rows.append(measure(lab, scheduler, icp, args.passes))
        restore(lab)
    finally:
        if not args.keep:
            subprocess.run([sys.executable, "-m", "lvslab.cli", "down", "--name", args.name])
    print(f"\n{len(url_set())} objects x {args.passes} passes from {len(CLIENTS)} clients")
    print(
        f"{'arrangement':<20} {'requests':>8} {'failed':>6} {'origin/req':>10} "
        f"{'origin/obj':>10} {'hit ratio':>9} {'split origins':>13}"
    )
    for r in rows:
        print(
            f"{r['arrangement']:<20} {r['requests']:>8} {r['failed']:>6} "
            f"{r['origin_per_request']:>10.2f} {r['origin_per_object']:>10.2f} "
            f"{r['hit_ratio']:>9.2f} {r['spread']:>13}"
        )


if __name__ == "__main__":
    main()
