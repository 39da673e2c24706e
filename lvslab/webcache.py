"""Drive a cache cluster from tests and benchmarks: the URL set over the lab's origin
addresses, a client that fetches it from several client addresses at once and checks
every body against the origin's, and the two records of what happened: the origin's
access log (lvslab.origin) and the caches' squid access logs."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from . import origin
from .testing import Lab

CACHES = ["cache1", "cache2", "cache3"]
ORIGINS = [f"198.18.0.{10 + i}" for i in range(24)]
# objects per origin address; the last one is larger than many TCP segments
OBJECTS = [("/a", 1024), ("/b", 4096), ("/c", 16384), ("/d", 200_000)]
CLIENTS = ["203.0.113.10", "203.0.113.11", "203.0.113.12"]

FETCH = r"""
import http.client, json, sys
from concurrent.futures import ThreadPoolExecutor
from lvslab.origin import body
jobs = json.loads(sys.stdin.read())
def get(job):
    host, path, size, source = job
    try:
        conn = http.client.HTTPConnection(host, 80, timeout=10, source_address=(source, 0))
        conn.request("GET", f"{path}?size={size}")
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        ok = resp.status == 200 and data == body(host, path, size)
        return {"url": f"http://{host}{path}", "ok": ok, "status": resp.status,
                "bytes": len(data), "client": source}
    except OSError as exc:
        return {"url": f"http://{host}{path}", "ok": False, "error": str(exc), "client": source}
with ThreadPoolExecutor(8) as pool:
    print(json.dumps(list(pool.map(get, jobs))))
"""


def url_set(origins=ORIGINS) -> list[tuple[str, str, int]]:
    return [(host, path, size) for host in origins for path, size in OBJECTS]


def fetch(lab: Lab, urls, clients=CLIENTS) -> list[dict]:
    """Fetch every URL once, spread over the client addresses, 8 at a time; each result
    says whether the body was the origin's object byte for byte."""
    jobs = [(h, p, s, clients[i % len(clients)]) for i, (h, p, s) in enumerate(urls)]
    proc = lab.client(sys.executable, "-c", FETCH, timeout=300, input=json.dumps(jobs))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def origin_fetches(lab: Lab) -> Counter:
    """How often each object reached the origin ("http://host/path")."""
    entries = origin.read_log(Path(lab.state["origin_log"]))
    return Counter(f"http://{e['origin']}{e['path'].split('?')[0]}" for e in entries)


def squid_log(lab: Lab, cache: str) -> list[dict]:
    """The clients' and siblings' requests in a cache's access log (squid's native
    format: time elapsed client code/status bytes method URL user hierarchy/peer type)."""
    text = lab.ssh("cat /var/log/squid/access.log", guest=cache, check=False).stdout
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 10 or f[5] not in ("GET", "HEAD") or "squid-internal" in f[6]:
            continue
        code, _, status = f[3].partition("/")
        out.append(
            {
                "client": f[2],
                "code": code,
                "status": status,
                "url": f[6].split("?")[0],
                "hierarchy": f[8],
                "cache": cache,
            }
        )
    return out
