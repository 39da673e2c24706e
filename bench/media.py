"""Media cluster benchmark: RTSP session set-up through the VIP, and the control
connection's longest stall when the master director crashes and when it takes over again.

    .venv/bin/python bench/media.py [--sessions 10] [--runs 2] [--name bench-media] [--keep]

Brings the media lab up (lvslab), converges site.yml, puts a test clip made here with
ffmpeg on the NFS share, then measures, from a client with an address of its own:

  - session set-up (connect, DESCRIBE, SETUP, PLAY answered) through the VIP, beside the
    same session asked of a media server directly (its own address, no director): what
    the director adds;
  - the longest stall of one RTSP control connection kept through the VIP while the
    master director crashes (lvslab crash dir1) and while it comes back and takes the
    VIP again after its preempt delay: GET_PARAMETER requests back to back, the longest
    time between two answers; beside the same crash with the sync daemons stopped,
    where the backup has no entry for the connection and resets it.

The web cluster's VIP gaps for the same faults are bench/failover.py's. Prints a table
of min/median/max; nothing is asserted. The lab goes down at the end unless --keep.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from lvslab import lab as lablib
from lvslab.rtsp import RtspSession, make_clip, session_setup_time
from lvslab.testing import LVSLAB, Lab, converge, holds, log, up, wait_for

VIP = "192.0.2.110"
SERVER = "192.0.2.31"  # media1's own address
EXPORT = "/srv/nfs/media"
CLIENT = "203.0.113.200"


class Stall:
    """GET_PARAMETER back to back on one control connection; the longest answer gap."""

    def __init__(self, session: RtspSession):
        self.session, self.gaps, self.error = session, [], None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        last = time.monotonic()
        while not self._stop.is_set():
            try:
                status = self.session.get_parameter()
            except OSError as exc:
                self.error = f"{exc.__class__.__name__} after {time.monotonic() - last:.2f} s"
                return
            now = time.monotonic()
            if status == 200:
                self.gaps.append(now - last)
                last = now
            time.sleep(0.02)

    def __enter__(self) -> Stall:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def longest(self) -> str:
        if self.error:
            return f"reset ({self.error})"
        return f"{max(self.gaps):.2f}"


def stall_run(lab: Lab, ns: str, url: str, sync: bool) -> dict:
    """One crash of dir1 (and, with sync, its failback) under a kept control connection."""
    out = {}
    session = RtspSession(url, netns=ns, timeout=30)
    try:
        session.play()
        time.sleep(3)  # the connection synced to dir2
        with Stall(session) as stall:
            lab.lvslab("crash", "dir1")
            wait_for("dir2 to take the VIP", lambda: holds(lab, "dir2", VIP), 30, 0.1)
            time.sleep(4)
        out["takeover"] = stall.longest()
        if sync and not stall.error:
            with Stall(session) as stall:
                lab.lvslab("start", "dir1")
                wait_for("dir1 to take the VIP back", lambda: holds(lab, "dir1", VIP), 120, 0.2)
                time.sleep(4)
            out["failback"] = stall.longest()
    finally:
        session.close()
    if not sync or "failback" not in out:
        lab.lvslab("start", "dir1")
        wait_for("dir1 to take the VIP back", lambda: holds(lab, "dir1", VIP), 120, 0.5)
    return out


def summary(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--name", default="bench-media")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)

    began = time.monotonic()
    lab, started = up("media", args.name)
    work = Path(tempfile.mkdtemp(prefix="bench-media-"))
    log(f"lab {args.name} up; converge log in {work}")
    try:
        took = converge(lab, work / "converge.log")
        log(f"converged in {took:.0f} s")
        clip = work / "bench.mp4"
        make_clip(clip, 120)
        lab.ssh(f"cat > {EXPORT}/bench.mp4", guest="store1", input=clip.read_bytes())
        url, direct = f"rtsp://{VIP}/bench.mp4", f"rtsp://{SERVER}/bench.mp4"
        ns = lablib.client_namespace(args.name, CLIENT)
        wait_for("the clip to be served", lambda: _plays(direct, ns), 30, 1)

        setup = {"through the VIP": [], "direct to media1": []}
        for _ in range(args.sessions):
            setup["through the VIP"].append(session_setup_time(url, ns))
            setup["direct to media1"].append(session_setup_time(direct, ns))

        stalls = {"with sync": [], "sync stopped": []}
        for _ in range(args.runs):
            stalls["with sync"].append(stall_run(lab, ns, url, sync=True))
        for guest in ("dir1", "dir2"):
            lab.ssh("ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup", guest=guest)
        for _ in range(args.runs):
            stalls["sync stopped"].append(stall_run(lab, ns, url, sync=False))
    finally:
        if started and not args.keep:
            subprocess.run([*LVSLAB, "down", "--name", args.name], check=False)

    print(f"\nmedia cluster, {args.sessions} sessions, {args.runs} crash runs "
          f"({time.monotonic() - began:.0f} s in all)")  # fmt: skip
    print("\nRTSP session set-up (connect to PLAY answered), seconds, min / median / max")
    for label, values in setup.items():
        print(f"  {label:<20} {summary(values)}")
    print("\nlongest control-connection stall (GET_PARAMETER back to back), seconds per run")
    for label, runs in stalls.items():
        for fault in ("takeover", "failback"):
            values = [r[fault] for r in runs if fault in r]
            if values:
                print(f"  {label:<14} {fault:<9} {', '.join(values)}")
    return 0


def _plays(url: str, ns: str) -> bool:
    try:
        session_setup_time(url, ns)
    except OSError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
