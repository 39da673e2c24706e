"""The lab's origin side: one HTTP server answering on every address of the origin
namespace, standing in for the web sites a cache cluster fetches from.

    python -m lvslab.origin --log PATH [--port 80]

Every object is generated from its address and path, so a test can compute the body it
must receive: ``GET /<anything>?size=N`` (default 1024 bytes, at most 4 MiB) answers
``body(address, path, N)`` with headers that make it cacheable for a day. Each request
that reaches the origin is one JSON line in the log (time, the origin address asked,
the peer, method, path, status, bytes, the Via header): the ground truth of what the
caches fetched.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DEFAULT_SIZE = 1024
MAX_SIZE = 4 * 1024 * 1024
# one fixed date: revalidations compare equal, and bodies never change
LAST_MODIFIED = formatdate(1_700_000_000, usegmt=True)


def body(address: str, path: str, size: int) -> bytes:
    """The object at http://<address><path> of ``size`` bytes (path without the query)."""
    seed = hashlib.sha256(f"{address}{path}".encode()).hexdigest().encode()
    line = seed + b"\n"
    return (line * (size // len(line) + 1))[:size]


def read_log(path: Path) -> list[dict]:
    """The origin's access log, one dict per request that reached it."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class Handler(BaseHTTPRequestHandler):
    server_version = "lvslab-origin"
    protocol_version = "HTTP/1.1"  # keep-alive, as origins do

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        url = urlsplit(self.path)
        try:
            size = int(parse_qs(url.query).get("size", [DEFAULT_SIZE])[0])
        except ValueError:
            size = -1
        local = self.connection.getsockname()[0]
        if not 0 <= size <= MAX_SIZE:
            status, data = 400, b"size must be 0..4194304\n"
        else:
            status, data = 200, body(local, url.path, size)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        if status == 200:
            self.send_header("Cache-Control", "public, max-age=86400")
            self.send_header("Last-Modified", LAST_MODIFIED)
            self.send_header("ETag", '"' + hashlib.sha256(data).hexdigest()[:16] + '"')
        self.end_headers()
        if send_body:
            self.wfile.write(data)
        self.server.record(  # type: ignore[attr-defined]
            {
                "time": round(time.time(), 3),
                "origin": local,
                "peer": self.client_address[0],
                "method": self.command,
                "path": self.path,
                "status": status,
                "bytes": len(data) if send_body else 0,
                "via": self.headers.get("Via"),
            }
        )

    def log_message(self, format: str, *args) -> None:
        pass  # the JSON log is the record


class Origin(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, log: Path):
        super().__init__(("0.0.0.0", port), Handler)
        self._log = log.open("a", buffering=1)
        self._lock = threading.Lock()

    def record(self, entry: dict) -> None:
        with self._lock:
            self._log.write(json.dumps(entry) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--port", type=int, default=80)
    args = parser.parse_args(argv)
    Origin(args.port, args.log).serve_forever()


if __name__ == "__main__":
    main()
