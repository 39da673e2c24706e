"""Client-side traffic probes, run inside a lab's client namespace.

    lvslab client -- python -m lvslab.probe split URL --count 30 [--source IP] [--cacert F]
    lvslab client -- python -m lvslab.probe watch URL --seconds 20 [--interval 0.05]
    lvslab client -- python -m lvslab.probe hold URL --connections 20 --seconds 90

Every answer is identified by its ``X-Real-Server`` header. Output is one JSON object:
``split`` counts answers per real server; ``watch`` sends a request every interval,
each on its own connection with a short timeout and without waiting for the previous
one, and reports the longest gap without answers; ``hold`` keeps
long-lived HTTP/1.1 connections open and exchanges a request on each of them every
second, reporting per connection which server answered and every failure.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import socket
import ssl
import sys
import threading
import time
from collections import Counter
from urllib.parse import urlsplit

HEADER = "X-Real-Server"


def _connection(url: str, source: str | None, cacert: str | None, timeout: float):
    parts = urlsplit(url)
    src = (source, 0) if source else None
    if parts.scheme == "https":
        ctx = ssl.create_default_context(cafile=cacert)
        return http.client.HTTPSConnection(
            parts.hostname, parts.port or 443, timeout=timeout, source_address=src, context=ctx
        )
    return http.client.HTTPConnection(
        parts.hostname, parts.port or 80, timeout=timeout, source_address=src
    )


def _get(conn, url: str) -> tuple[str, bytes]:
    """(the X-Real-Server that answered, the body) of one GET that must answer 200."""
    conn.request("GET", urlsplit(url).path or "/", headers={"Connection": "keep-alive"})
    resp = conn.getresponse()
    body = resp.read()
    if resp.status != 200:
        raise OSError(f"HTTP {resp.status}")
    return resp.getheader(HEADER) or "?", body


def _stopped(args) -> bool:
    return bool(args.stop_file) and os.path.exists(args.stop_file)


def split(args) -> dict:
    """One new connection per request: the scheduler's choice each time."""
    counts: Counter = Counter()
    bodies: set[str] = set()
    errors = []
    for _ in range(args.count):
        conn = _connection(args.url, args.source, args.cacert, args.timeout)
        try:
            server, body = _get(conn, args.url)
            counts[server] += 1
            bodies.add(body.decode(errors="replace").strip())
        except (OSError, http.client.HTTPException) as exc:
            errors.append(str(exc))
        finally:
            conn.close()
    out = {"servers": dict(sorted(counts.items())), "errors": errors}
    if args.body:
        out["bodies"] = sorted(bodies)
    return out


def watch(args) -> dict:
    """A request every interval, each on its own connection and thread, so a request
    lost in an outage does not hold back the next one; the gap is the longest stretch
    without an answer arriving (from the start, between answers, to the end)."""
    start = time.monotonic()
    lock = threading.Lock()
    answered: list[float] = []
    answers: Counter = Counter()
    failures = [0]

    def request() -> None:
        conn = _connection(args.url, args.source, args.cacert, args.timeout)
        try:
            server = _get(conn, args.url)[0]
            with lock:
                answered.append(time.monotonic())
                answers[server] += 1
        except (OSError, http.client.HTTPException):
            with lock:
                failures[0] += 1
        finally:
            conn.close()

    threads = []
    sent = start
    while sent - start < args.seconds and not _stopped(args):
        thread = threading.Thread(target=request, daemon=True)
        thread.start()
        threads.append(thread)
        sent += args.interval
        time.sleep(max(0.0, sent - time.monotonic()))
    end = time.monotonic()
    for thread in threads:
        thread.join(args.timeout + 1)
    marks = [start, *sorted(t for t in answered if t <= end), end]
    longest = max(b - a for a, b in itertools.pairwise(marks))
    return {
        "longest_gap_s": round(longest, 3),
        "failures": failures[0],
        "servers": dict(sorted(answers.items())),
    }


def hold(args) -> dict:
    """Long-lived connections, each exchanging a request every second."""
    stop = threading.Event()
    results = [
        {"server": None, "servers": [], "ok": 0, "failures": []} for _ in range(args.connections)
    ]

    def run(i: int) -> None:
        res = results[i]
        conn = _connection(args.url, args.source, args.cacert, args.timeout)
        began = time.monotonic()
        while not stop.is_set():
            t = time.monotonic()
            try:
                server = _get(conn, args.url)[0]
                res["ok"] += 1
                if server not in res["servers"]:
                    res["servers"].append(server)
            except (OSError, http.client.HTTPException) as exc:
                res["failures"].append({"at_s": round(t - began, 1), "error": str(exc)})
                break  # a broken connection is not reopened: it did not survive
            stop.wait(max(0.0, 1.0 - (time.monotonic() - t)))
        conn.close()

    threads = [
        threading.Thread(target=run, args=(i,), daemon=True) for i in range(args.connections)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline and not _stopped(args):
        time.sleep(0.2)
    stop.set()
    for t in threads:
        t.join(args.timeout + 2)
    for res in results:
        res["server"] = res["servers"][0] if len(res["servers"]) == 1 else None
    survived = sum(1 for r in results if not r["failures"] and r["server"])
    return {"connections": args.connections, "survived": survived, "results": results}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m lvslab.probe",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("split", "watch", "hold"):
        p = sub.add_parser(name)
        p.add_argument("url")
        p.add_argument("--source", help="client address to send from")
        p.add_argument("--cacert", help="CA file for https")
        p.add_argument("--timeout", type=float, default=5.0)
        if name == "split":
            p.add_argument("--count", type=int, default=30)
            p.add_argument("--body", action="store_true", help="also report the bodies seen")
        if name == "watch":
            p.add_argument("--seconds", type=float, default=20)
            p.add_argument("--interval", type=float, default=0.05)
        if name == "hold":
            p.add_argument("--connections", type=int, default=20)
            p.add_argument("--seconds", type=float, default=90)
        if name != "split":
            p.add_argument("--stop-file", help="stop early once this file exists")
    args = ap.parse_args(argv)
    if args.cmd == "watch" and args.timeout == 5.0:
        args.timeout = 0.5  # a gap is measured with a short timeout
    socket.setdefaulttimeout(args.timeout)
    result = {"split": split, "watch": watch, "hold": hold}[args.cmd](args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
