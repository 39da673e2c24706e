"""Failover benchmark of the web cluster: the model's tuned timings against keepalived's stock.

    .venv/bin/python bench/failover.py [--runs 3] [--name bench-fo] [--keep]   (as root)

Brings the web lab up (lvslab), converges site.yml with keepalived's stock timings
(bench/keepalived_stock.yml: VRRPv2, advert_int 1, delay_loop 60, connect_timeout 5,
delay_before_retry 3/1) and measures, then converges the inventory as it is (VRRPv3,
advert 0.1 s, checks every second) and measures the same, N runs each:

  - VIP gap when the master director crashes (lvslab crash dir1) and when its keepalived
    stops gracefully, seen by a client probe sending a request every 0.05 s with a 0.5 s
    timeout, each request on its own connection so a lost one does not hold back the
    next (lvslab.probe watch); after each, dir1 comes back and takes the VIP again
    (preempt) and the gap of that failback is measured too;
  - time for a real server whose nginx stops (rs2) to leave the pool of the active
    director (weight 0) and to return after nginx starts, for the HTTP_GET service on
    the DR VIP and the TCP_CHECK service on the TUN VIP; the director polls its own table
    every 0.05 s and rs2 signals the stop and the start to it over the lab network, so
    both times come from the director's clock and ssh latency does not count;
  - tuned only: VRRP state changes on both directors over a 60 s quiet period while
    rs3 is halted and booted again.

Prints a table of min/median/max per setting. Numbers only: nothing is asserted. The lab
goes down at the end unless --keep (then it is left converged with the tuned settings).
Needs root (the lab does); converge logs go to a temporary folder named on stderr.
"""

from __future__ import annotations

import argparse
import copy
import json
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lvslab.testing import LVSLAB, REPO, Lab, ansible_env, up

DR, TUN = "192.0.2.100", "192.0.2.101"
MASTER, BACKUP = "dir1", "dir2"
MASTER_ADDRESS = "192.0.2.11"  # dir1's ansible_host in inventory/web/hosts.yml
VICTIM, REBOOTED = "rs2", "rs3"
# the pool entries watched when the victim's nginx stops: (label, service, destination)
POOLS = (
    ("HTTP_GET", f"{DR}:80", "192.0.2.22:80"),
    ("TCP_CHECK", f"{TUN}:80", "192.0.2.22:80"),
)
TOPOLOGY = REPO / "inventory" / "web" / "group_vars" / "all" / "topology.yml"
STOCK = REPO / "bench" / "keepalived_stock.yml"
VRRP_TIMINGS = {"version", "advert_int"}
CHECK_TIMINGS = {"delay_loop", "connect_timeout", "retry", "delay_before_retry"}
QUIET_S = 60
GOALS = {
    "crash": "<= 0.5",
    "out HTTP_GET": "<= 1.5",
    "back HTTP_GET": "<= 1",
    "out TCP_CHECK": "<= 1.5",
    "back TCP_CHECK": "<= 1",
    "flaps": "0",
}

# Runs inside the director. Reads the kernel's table (/proc/net/ip_vs, what `ipvsadm -Ln`
# prints: spawning ipvsadm takes ~0.1 s in a UML guest, reading the file 1 ms) every 0.05 s
# until every watched entry is in the wanted state (weight 0 for "down", > 0 for "up").
# The victim announces the moment its nginx stopped or started with one UDP datagram, so
# both ends of the interval come from this guest's clock: the guests' clocks differ by up
# to 0.2 s, and ssh latency does not count. Prints "ready", then one JSON line.
POLLER = r"""
import json, select, socket, sys, time
want, pools = sys.argv[1], json.loads(sys.argv[2])
limit, port = float(sys.argv[3]), int(sys.argv[4])

def hexed(endpoint):
    address, port = endpoint.rsplit(":", 1)
    return f"{socket.inet_aton(address).hex().upper()}:{int(port):04X}"

def weights():
    table, service = {}, None
    with open("/proc/net/ip_vs") as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] in ("TCP", "UDP", "SCTP", "FWM"):
                service = parts[1]
            elif len(parts) > 3 and parts[0] == "->" and parts[3].isdigit():
                table[(service, parts[1])] = int(parts[3])
    return table

def reached(table, key):
    weight = table.get(key, 0)  # a removed entry counts as weight 0
    return weight == 0 if want == "down" else weight > 0

keys = {f"{s} {d}": (hexed(s), hexed(d)) for s, d in pools}
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind(("0.0.0.0", port))
first = weights()
print("ready", json.dumps({k: first.get(v) for k, v in keys.items()}), flush=True)
seen, event, polls, began = {}, None, 0, time.time()
while (len(seen) < len(keys) or event is None) and time.time() - began < limit:
    t = time.time()
    table = weights()
    polls += 1
    for name, key in keys.items():
        if name not in seen and reached(table, key):
            seen[name] = t
    while True:
        left = 0.05 - (time.time() - t)
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            break
        sock.recv(64)
        event = event or time.time()
period = (time.time() - began) / max(polls, 1)
print(json.dumps({"event": event, "seen": seen, "poll_period_s": round(period, 3)}), flush=True)
"""
NOTIFY_PORT = 47999


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, lab: Lab, workdir: Path, model: dict):
        self.lab = lab
        self.workdir = workdir
        self.preempt_delay = float(model["lvs_vrrp"].get("preempt_delay", 0))
        self.results: dict[str, dict[str, list]] = {}

    # ------------------------------------------------------------ helpers

    def record(self, setting: str, metric: str, value) -> None:
        self.results.setdefault(setting, {}).setdefault(metric, []).append(value)

    def sh(self, cmd: str, guest: str, timeout: float = 300, check: bool = True):
        return self.lab.ssh(cmd, guest=guest, timeout=timeout, check=check)

    def converge(self, label: str, extra: list[str]) -> float:
        logfile = self.workdir / f"converge-{label}.log"
        playbook = Path(sys.executable).with_name("ansible-playbook")
        cmd = [str(playbook) if playbook.exists() else "ansible-playbook"]
        for inv in self.lab.inventory:
            cmd += ["-i", inv]
        cmd += ["site.yml", *extra]
        env = ansible_env()
        log(f"converge ({label}): {shlex.join(cmd)}  > {logfile}")
        began = time.monotonic()
        with logfile.open("w") as out:
            proc = subprocess.run(
                cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )  # fmt: skip
        took = time.monotonic() - began
        if proc.returncode:
            tail = "".join(logfile.read_text().splitlines(keepends=True)[-40:])
            raise SystemExit(f"converge ({label}) failed after {took:.0f} s:\n{tail}")
        log(f"converge ({label}) done in {took:.0f} s")
        return took

    def wait_vip(self, guest: str, present: bool = True, timeout: float = 120) -> None:
        """Wait inside the guest until it holds (or has let go of) the DR VIP."""
        test = f"ip -o -4 addr show | grep -q ' {DR}/'"
        if not present:
            test = f"! {test}"
        loops = int(timeout / 0.1)
        cmd = f"for i in $(seq {loops}); do if {test}; then exit 0; fi; sleep 0.1; done; exit 1"
        if self.sh(cmd, guest, timeout=timeout + 30, check=False).returncode:
            raise SystemExit(f"{guest} {'never took' if present else 'kept'} the VIP {DR}")

    def holds_vip(self, guest: str) -> bool:
        out = self.sh("ip -o -4 addr show", guest, timeout=30, check=False).stdout
        return f" {DR}/" in out

    def weights(self, guest: str, service: str) -> dict[str, int]:
        out = self.sh(f"ipvsadm -Ln -t {service}", guest, check=False).stdout
        table = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) > 3 and parts[0] == "->" and parts[1][0].isdigit():
                table[parts[1]] = int(parts[3])
        return table

    def wait_pool_full(self, guest: str, timeout: float = 150) -> None:
        deadline = time.monotonic() + timeout
        while True:
            table = self.weights(guest, f"{DR}:80")
            if len(table) == 3 and all(table.values()):
                return
            if time.monotonic() > deadline:
                raise SystemExit(f"the pool of {DR}:80 on {guest} is not full: {table}")
            time.sleep(0.5)

    def steady(self) -> None:
        """dir1 is the only master and its pool is full."""
        self.wait_vip(MASTER)
        self.wait_vip(BACKUP, present=False, timeout=60)
        self.wait_pool_full(MASTER)

    def watch(self, seconds: float) -> subprocess.Popen:
        return self.lab.probe_background(
            "watch", f"http://{DR}/", "--seconds", f"{seconds:g}",
            "--interval", "0.05", "--timeout", "0.5",
        )  # fmt: skip

    @staticmethod
    def watched(proc: subprocess.Popen) -> dict:
        out, err = proc.communicate(timeout=300)
        if proc.returncode:
            raise SystemExit(f"watch probe failed: {err}")
        return json.loads(out)

    def check_running_config(self, setting: str, model: dict) -> None:
        """What the running keepalived uses (its USR1 data dump), not only what the file says."""
        version = int(model["lvs_vrrp"]["version"])
        delay_loops = {float(s["check"].get("delay_loop", 6)) for s in model["lvs_services"]}
        dump = self.sh(
            "rm -f /tmp/keepalived*.data; kill -USR1 $(cat /run/keepalived.pid); sleep 1; "
            "grep -h -E 'VRRP Version|Advert interval|Delay loop = [0-9.]+$|^ +Timeout = "
            "|Delay before retry = ' /tmp/keepalived.data /tmp/keepalived_check.data "
            "| sed 's/^ *//' | sort | uniq -c",
            MASTER,
            check=False,
        ).stdout
        lines = [" ".join(line.split()) for line in dump.splitlines()]
        log(f"{setting}: running keepalived on {MASTER}: {'; '.join(lines)}")
        wanted = [f"VRRP Version = {version}"] + [f"Delay loop = {d:f}" for d in delay_loops]
        for text in wanted:
            if not any(line.endswith(text) for line in lines):
                log(f"WARNING: {setting}: the running keepalived does not show '{text}'")

    # ------------------------------------------------------------ measurements

    def crash(self, setting: str, advert: float) -> None:
        seconds = max(4.0, 2 + 6 * advert)
        probe = self.watch(seconds)
        time.sleep(1.0)
        self.lab.lvslab("crash", MASTER)
        result = self.watched(probe)
        self.record(setting, "crash", result["longest_gap_s"])
        log(f"{setting}: crash gap {result['longest_gap_s']} s, {result['failures']} failed")
        began = time.monotonic()
        self.lab.lvslab("start", MASTER)
        self.steady()
        log(f"{setting}: {MASTER} rebooted and master again after {time.monotonic() - began:.0f} s")

    def graceful(self, setting: str, advert: float) -> None:
        seconds = max(5.0, 3 + 6 * advert)
        probe = self.watch(seconds)
        time.sleep(1.0)
        self.sh("systemctl stop keepalived", MASTER)
        result = self.watched(probe)
        self.record(setting, "graceful", result["longest_gap_s"])
        log(f"{setting}: graceful gap {result['longest_gap_s']} s, {result['failures']} failed")
        # failback: dir1 starts as backup and takes the VIP after its preempt delay
        probe = self.watch(self.preempt_delay + 6)
        self.sh("systemctl start keepalived", MASTER)
        result = self.watched(probe)
        if self.holds_vip(MASTER):
            self.record(setting, "failback", result["longest_gap_s"])
            log(f"{setting}: failback gap {result['longest_gap_s']} s, {result['failures']} failed")
        else:
            log(f"{setting}: {MASTER} had not taken the VIP back by the end of the probe")
        self.steady()

    def pool_change(self, setting: str, want: str, action: str, limit: float) -> None:
        """Start the poller on the master, run `action` on the victim, time the change."""
        pools = json.dumps([[service, dest] for _, service, dest in POOLS])
        cmd = ["ssh", "-F", self.lab.state["ssh_config"], MASTER]
        cmd.append(
            f"python3 -c {shlex.quote(POLLER)} {want} {shlex.quote(pools)} {limit:g} {NOTIFY_PORT}"
        )
        poller = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        ready = poller.stdout.readline()
        if not ready.startswith("ready"):
            poller.kill()
            raise SystemExit(f"poller on {MASTER} did not start: {ready} {poller.stderr.read()}")
        # the victim tells the poller (bash's /dev/udp: no process to start) once nginx is
        # really down, or up again: `systemctl stop|start` returns when that is so
        notify = f"echo {action} > /dev/udp/{MASTER_ADDRESS}/{NOTIFY_PORT}"
        self.sh(f"bash -c {shlex.quote(f'systemctl {action} nginx && {notify}')}", VICTIM)
        out, err = poller.communicate(timeout=limit + 60)
        report = json.loads(out.strip().splitlines()[-1]) if out.strip() else {}
        at = report.get("event")
        if at is None:
            raise SystemExit(f"poller on {MASTER}: no word from {VICTIM}: {out} {err}")
        for label, service, dest in POOLS:
            seen = report["seen"].get(f"{service} {dest}")
            metric = f"{'out' if want == 'down' else 'back'} {label}"
            self.record(setting, metric, None if seen is None else round(seen - at, 3))
        shown = {k: round(v - at, 2) for k, v in report["seen"].items()}
        log(f"{setting}: {VICTIM} nginx {action}: {shown} (poll {report['poll_period_s']} s)")

    def realserver(self, setting: str, delay_loop: float) -> None:
        limit = 2 * delay_loop + 30
        try:
            self.pool_change(setting, "down", "stop", limit)
        finally:
            self.pool_change(setting, "up", "start", limit)

    def flapping(self, setting: str) -> None:
        """VRRP state changes on both directors while another guest halts and boots."""
        directors = (MASTER, BACKUP)
        # each director's own clock marks the start: journalctl --since reads it
        since = {g: int(float(self.sh("date +%s.%N", g).stdout.strip())) for g in directors}
        began = time.monotonic()
        time.sleep(5)
        self.lab.lvslab("stop", REBOOTED)
        self.lab.lvslab("start", REBOOTED)
        log(f"{setting}: {REBOOTED} halted and booted in {time.monotonic() - began - 5:.0f} s")
        time.sleep(max(0.0, QUIET_S - (time.monotonic() - began)))
        changes = []
        for g in directors:
            out = self.sh(
                f"journalctl -u keepalived -o short-precise --since @{since[g]} "
                "| grep -E 'Entering [A-Z]+ STATE' || true",
                g,
            ).stdout
            changes += [" ".join(line.split()[2:]) for line in out.splitlines() if line.strip()]
        self.record(setting, "flaps", len(changes))
        log(f"{setting}: {len(changes)} VRRP state changes in {QUIET_S} s")
        for line in changes:
            log(f"{setting}:   {line}")
        self.steady()

    def setting(self, name: str, model: dict, runs: int, flapping: bool) -> None:
        advert = float(model["lvs_vrrp"]["advert_int"])
        delay_loop = max(float(s["check"].get("delay_loop", 6)) for s in model["lvs_services"])
        self.check_running_config(name, model)
        self.steady()
        for run in range(1, runs + 1):
            log(f"{name}: run {run}/{runs}")
            self.crash(name, advert)
            self.graceful(name, advert)
            self.realserver(name, delay_loop)
        if flapping:
            self.flapping(name)


# ---------------------------------------------------------------- model and table


def load_models() -> tuple[dict, dict]:
    """The inventory's model and the stock overrides; stop if they differ beyond timings."""
    tuned = yaml.safe_load(TOPOLOGY.read_text())
    stock = yaml.safe_load(STOCK.read_text())

    def strip(model: dict) -> dict:
        model = copy.deepcopy({k: model[k] for k in ("lvs_vrrp", "lvs_services")})
        for key in VRRP_TIMINGS:
            model["lvs_vrrp"].pop(key, None)
        for service in model["lvs_services"]:
            for key in CHECK_TIMINGS:
                service.get("check", {}).pop(key, None)
        return model

    if strip(tuned) != strip(stock):
        raise SystemExit(
            f"{STOCK.relative_to(REPO)} differs from {TOPOLOGY.relative_to(REPO)} in more than "
            "the timing keys: copy lvs_vrrp and lvs_services again and change only "
            f"{sorted(VRRP_TIMINGS)} and the checks' {sorted(CHECK_TIMINGS)}"
        )
    return tuned, {**tuned, **stock}


def summary(values: list) -> str:
    got = [v for v in values if v is not None]
    if not got:
        return "-"
    missing = len(values) - len(got)
    lo, mid, hi = min(got), statistics.median(got), max(got)
    text = f"{lo:g} / {mid:g} / {hi:g}" if len(got) > 1 else f"{got[0]:g}"
    return text + (f" ({missing} missed)" if missing else "")


def table(results: dict, runs: int) -> str:
    rows = [
        ("VIP gap, master crash (s)", "crash"),
        ("VIP gap, graceful stop (s)", "graceful"),
        ("VIP gap, failback after preempt delay (s)", "failback"),
        ("dead server out, HTTP_GET DR:80 (s)", "out HTTP_GET"),
        ("dead server back, HTTP_GET DR:80 (s)", "back HTTP_GET"),
        ("dead server out, TCP_CHECK TUN:80 (s)", "out TCP_CHECK"),
        ("dead server back, TCP_CHECK TUN:80 (s)", "back TCP_CHECK"),
        (f"VRRP state changes, {QUIET_S} s, rs3 rebooting", "flaps"),
    ]
    header = ("metric", "tuned min / median / max", "stock min / median / max", "goal")
    body = [
        (
            label,
            summary(results.get("tuned", {}).get(key, [])),
            summary(results.get("stock", {}).get(key, [])),
            GOALS.get(key, "-"),
        )
        for label, key in rows
    ]
    widths = [max(len(r[i]) for r in (header, *body)) for i in range(4)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in (header,)]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in body]
    lines.append(
        f"{runs} run(s) per setting; tuned: {TOPOLOGY.relative_to(REPO)}; "
        f"stock: {STOCK.relative_to(REPO)}"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--runs", type=int, default=3, help="runs per setting (default 3)")
    ap.add_argument("--name", default="bench-fo", help="lab name (default bench-fo)")
    ap.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    args = ap.parse_args(argv)
    tuned, stock = load_models()
    workdir = Path(tempfile.mkdtemp(prefix="bench-failover-"))
    began = time.monotonic()
    log(f"lab {args.name}: up (logs in {workdir})")
    lab, _ = up("web", args.name)
    log(f"lab {args.name}: up after {time.monotonic() - began:.0f} s")
    bench = Bench(lab, workdir, tuned)
    took = {}
    try:
        # stock first: the lab ends converged as the inventory says (useful with --keep)
        took["converge with stock timings"] = bench.converge("stock", ["-e", f"@{STOCK}"])
        bench.setting("stock", stock, args.runs, flapping=False)
        took["converge back to tuned"] = bench.converge("tuned", [])
        bench.setting("tuned", tuned, args.runs, flapping=True)
    finally:
        if args.keep:
            log(f"lab {args.name} left up: python -m lvslab.cli down --name {args.name}")
        else:
            subprocess.run(
                [*LVSLAB, "down", "--name", args.name], cwd=REPO, stdin=subprocess.DEVNULL,
                capture_output=True,
            )  # fmt: skip
            log(f"lab {args.name}: down")
        print(table(bench.results, args.runs))
        steps = ", ".join(f"{k} {v:.0f} s" for k, v in took.items())
        print(f"total {time.monotonic() - began:.0f} s ({steps})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
