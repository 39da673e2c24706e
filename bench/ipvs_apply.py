#!/usr/bin/env python3
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: this collection's IPVS code against ipvsadm, in a lab guest.

Run from the checkout:  bench/ipvs_apply.py [--lab NAME] [--guest dir1] [--services 1000]
It boots the smoke lab as NAME if none of that name is up (and takes it down after), copies
plugins/module_utils and this file into the guest, runs the in-process measurements there
(`--in-guest`), then the same changes through `ansible-playbook` with lvs.cluster.ipvs, and
prints a table. Every measured table is checked against `ipvsadm -Sn` before it counts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GUEST_DIR = "/var/tmp/lvs-bench"
DESTS = 10
ROUNDS = 3


# Table entries only, no traffic: 198.18.0.0/15 is the range set aside for benchmarks
# (RFC 2544) and holds far more addresses than the documentation ranges.
def service_address(i: int) -> str:
    return f"198.18.{i // 250}.{i % 250 + 1}"


def declared(n: int, weight_of=lambda i, d: 1 + d % 5) -> list[dict]:
    return [
        {
            "address": service_address(i),
            "port": 80,
            "scheduler": "wrr",
            "destinations": [
                {"address": f"198.19.{i % 250}.{d + 1}", "weight": weight_of(i, d)}
                for d in range(DESTS)
            ],
        }
        for i in range(n)
    ]


def save_text(services: list[dict]) -> str:
    """ipvsadm-save -n text of declared services, from the collection's one renderer."""
    from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_args import parse_services
    from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import render

    return render([s for s, _ in parse_services(services)])


def restore_text(n: int) -> str:
    """ipvsadm-restore input of the declared table."""
    return save_text(declared(n))


# ---------------------------------------------------------------- in the guest


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def sh(cmd: str, stdin: str | None = None) -> str:
    return subprocess.run(
        cmd, shell=True, input=stdin, text=True, capture_output=True, check=True
    ).stdout


def in_guest(n: int) -> dict:
    from ansible_collections.lvs.cluster.plugins.module_utils.ipvs import IPVS
    from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_args import parse_services
    from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import service_spec
    from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_plan import plan

    def reconcile(services, purge=False):
        """What the module does: read, plan, apply; returns (operations, failures)."""
        desired = parse_services(services)
        with IPVS() as conn:
            if purge:
                current = conn.services()
            else:
                current = [s for s in conn.get_services([s for s, _ in desired]).values() if s]
            todo = plan(current, desired, purge=purge)
            result = conn.apply(todo.ops) if todo.ops else None
        assert result is None or result.ok, result.failed[:3]
        return len(todo.ops)

    full = declared(n)
    # the text ipvsadm-restore reads is the text ipvsadm -Sn must print back
    text = expected = restore_text(n)
    # one more service with its destinations, as ipvsadm command lines
    extra = {
        "address": "198.18.250.1",
        "port": 80,
        "scheduler": "wrr",
        "destinations": [{"address": f"198.19.250.{d + 1}"} for d in range(DESTS)],
    }
    add_one = [f"ipvsadm {line}" for line in save_text([extra]).splitlines()]
    delete_one = f"ipvsadm -D {service_spec(parse_services([extra])[0][0])}"
    mid = n // 2

    def one_service(weight):
        svc = declared(mid + 1)[mid]
        for dest in svc["destinations"]:
            dest["weight"] = weight
        return [svc]

    # the guest shares the host's CPUs with other guests: every figure is the best of
    # ROUNDS, ours and ipvsadm's measured in the same rounds
    runs: dict[str, list[float]] = {}

    def measure(name, fn):
        seconds, value = timed(fn)
        runs.setdefault(name, []).append(seconds)
        return value

    for _round in range(ROUNDS):
        sh("ipvsadm -C")
        measure("ipvsadm_restore", lambda: sh("ipvsadm-restore", text))
        assert sh("ipvsadm -Sn") == expected
        measure("ipvsadm_save", lambda: sh("ipvsadm -Sn >/dev/null"))

        sh("ipvsadm -C")
        assert measure("apply_full", lambda: reconcile(full)) == n * (DESTS + 1)
        assert sh("ipvsadm -Sn") == expected, "table differs from ipvsadm -Sn"
        assert measure("noop_purge", lambda: reconcile(full, purge=True)) == 0
        assert measure("noop_declared", lambda: reconcile(full)) == 0
        measure("ipvsadm_save", lambda: sh("ipvsadm -Sn >/dev/null"))

        # the table was rebuilt this round: weights of one service to 7, 10 in-place edits
        assert measure("one_changed", lambda: reconcile(one_service(7))) == DESTS
        # one more service with 10 destinations the ipvsadm way: 11 commands
        measure("ipvsadm_one", lambda: [sh(c) for c in add_one])
        sh(delete_one)

    # the same one-service change on a small table: independent of the table's size
    sh("ipvsadm -C")
    sh("ipvsadm-restore", restore_text(10))
    for round_no in range(ROUNDS):
        weights = (lambda i, d: 7) if round_no % 2 == 0 else (lambda i, d: 1 + d % 5)
        svc = declared(10, weight_of=weights)[5]
        assert measure("one_changed_small", lambda s=svc: reconcile([s])) == DESTS
    sh("ipvsadm -C")
    return {name: min(values) for name, values in runs.items()}


# ---------------------------------------------------------------- on the host


def lvslab(*args: str, **kw) -> subprocess.CompletedProcess:
    tool = Path(sys.executable).with_name("lvslab")
    return subprocess.run([str(tool) if tool.exists() else "lvslab", *args], **kw)


def ship(lab: str, guest: str) -> None:
    # imported here: this file also runs inside the guest, where lvslab is absent
    from lvslab.testing import module_utils_tar

    lvslab(
        "ssh",
        "--name",
        lab,
        guest,
        "--",
        f"rm -rf {GUEST_DIR} && mkdir -p {GUEST_DIR} && tar -C {GUEST_DIR} -xf -",
        input=module_utils_tar(Path(__file__)),
        check=True,
        capture_output=True,
    )


def guest_sh(lab: str, guest: str, cmd: str) -> str:
    proc = lvslab("ssh", "--name", lab, guest, "--", cmd, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"{guest}$ {cmd}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def through_ansible(lab: str, guest: str, n: int) -> dict:
    """Module calls from the controller, as a playbook run sees them."""
    state = json.loads(
        lvslab("status", "--json", "--name", lab, check=True, capture_output=True, text=True).stdout
    )
    inventory = ["-i", str(REPO / "inventory" / state["profile"]), "-i", state["inventory"]]
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        play = Path(tmp) / "play.yml"
        play.write_text(
            json.dumps(
                [
                    {
                        "hosts": guest,
                        "gather_facts": False,
                        "tasks": [
                            {
                                "name": "ipvs",
                                "lvs.cluster.ipvs": {"services": "{{ services }}"},
                                "register": "r",
                            },
                            {"ansible.builtin.assert": {"that": ["r.changed == expect_changed"]}},
                        ],
                    }
                ]
            )
        )

        # every run loads a table of the same size, as an inventory holding the services
        # would: the difference between two runs is then the module's own cost (its
        # arguments templated, sent, validated, applied, answered), not the loading
        ballast = declared(n)

        def playbook(services, changed):
            varfile = Path(tmp) / "vars.json"
            varfile.write_text(
                json.dumps({"services": services, "expect_changed": changed, "table": ballast})
            )
            cmd = ["ansible-playbook", *inventory, str(play), "-e", f"@{varfile}"]
            binary = Path(sys.executable).with_name("ansible-playbook")
            cmd[0] = str(binary) if binary.exists() else cmd[0]
            proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(f"ansible-playbook failed:\n{proc.stdout}\n{proc.stderr}")

        one = [svc for i, svc in enumerate(declared(n, weight_of=lambda i, d: 9)) if i == n // 2]
        rows = {
            # a do-nothing run measures ansible's own fixed cost (connection, transfer)
            "ansible_empty": ([], False),
            "ansible_full": (declared(n), True),
            "ansible_noop": (declared(n), False),
            "ansible_one": (one, True),
        }
        for _round in range(ROUNDS):
            guest_sh(lab, guest, "ipvsadm -C")
            playbook([], False)  # warm-up: the ssh master connection, caches
            for name, (services, changed) in rows.items():
                seconds, _ = timed(lambda s=services, c=changed: playbook(s, c))
                out[name] = min(out.get(name, seconds), seconds)
        guest_sh(lab, guest, "ipvsadm -C")
    return out


def report(f: dict, n: int) -> str:
    rows = [
        (
            f"{n} services x {DESTS} destinations from empty",
            f["apply_full"],
            "ipvsadm-restore",
            f["ipvsadm_restore"],
        ),
        (
            "no-op reconcile, purge (whole table read)",
            f["noop_purge"],
            "ipvsadm -Sn",
            f["ipvsadm_save"],
        ),
        (
            "no-op reconcile, declared services read",
            f["noop_declared"],
            "ipvsadm -Sn",
            f["ipvsadm_save"],
        ),
        (
            f"one service changed, {n}-service table",
            f["one_changed"],
            f"{DESTS + 1} ipvsadm calls (add one)",
            f["ipvsadm_one"],
        ),
        ("one service changed, 10-service table", f["one_changed_small"], "", None),
    ]
    if "ansible_full" in f:
        rows += [
            ("ansible: empty services list (fixed cost)", f["ansible_empty"], "", None),
            (
                f"ansible: {n} x {DESTS} from empty",
                f["ansible_full"],
                "ipvsadm-restore",
                f["ipvsadm_restore"],
            ),
            ("ansible: no-op reconcile", f["ansible_noop"], "ipvsadm -Sn", f["ipvsadm_save"]),
            ("ansible: one service changed", f["ansible_one"], "", None),
            # the module's own time: its run minus the empty call, same transport
            (
                f"module's own: {n} x {DESTS} from empty",
                f["ansible_full"] - f["ansible_empty"],
                "ipvsadm-restore",
                f["ipvsadm_restore"],
            ),
            (
                "module's own: no-op reconcile",
                f["ansible_noop"] - f["ansible_empty"],
                "ipvsadm -Sn",
                f["ipvsadm_save"],
            ),
        ]
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'case':<{width}}{'this code':>11}   {'reference':<28}{'time':>9}{'ratio':>8}"]
    for name, ours, ref_name, ref in rows:
        ref_text = f"{ref:8.3f}s" if ref is not None else ""
        ratio = f"{ours / ref:8.3f}" if ref else ""
        lines.append(f"{name:<{width}}{ours:10.3f}s   {ref_name:<28}{ref_text:>9}{ratio}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lab", default=os.environ.get("LVS_BENCH_LAB", "bench"))
    parser.add_argument("--guest", default="dir1")
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--no-ansible", action="store_true")
    parser.add_argument("--in-guest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_guest:
        print(json.dumps(in_guest(args.services)))
        return 0

    started = lvslab("status", "--name", args.lab, capture_output=True).returncode != 0
    if started:
        lvslab("up", "smoke", "--name", args.lab, check=True)
    try:
        ship(args.lab, args.guest)
        raw = guest_sh(
            args.lab,
            args.guest,
            f"cd {GUEST_DIR} && PYTHONPATH={GUEST_DIR} python3 ipvs_apply.py "
            f"--in-guest --services {args.services}",
        )
        figures = json.loads(raw.strip().splitlines()[-1])
        if not args.no_ansible:
            figures.update(through_ansible(args.lab, args.guest, args.services))
    finally:
        if started:
            lvslab("down", "--name", args.lab, check=False)
    print(
        f"IPVS apply benchmark: lab guest {args.guest} (Linux 6.1, user-mode), "
        f"wall-clock seconds, best of {ROUNDS} rounds"
    )
    print(report(figures, args.services))
    return 0


if __name__ == "__main__":
    sys.exit(main())
