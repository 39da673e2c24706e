"""Cost of a run against the size of the model: the plan, a converge and a rerun.

    .venv/bin/python bench/plan_scale.py [--services 4 100 500] [--name bench-scale] [--keep]

For each size N the web profile's model is replaced by N TCP services on the DR VIP
(ports 10000.., scheduler wlc, a TCP_CHECK every 30 s, rs1..rs3 in each pool) and the
real servers declare the port range as an application run outside the collection. Then:

  - plan: the preflight's work in-process (validate once, parse, project every host), the
    best of five; and `ansible-playbook site.yml --limit localhost` (the preflight play
    alone, Ansible's start-up included);
  - converge: site.yml on the lab's directors and real servers (storage excluded: the
    web profile's NFS share is dropped from the model), from the previous size's state;
  - rerun: site.yml again, which must report changed=0.

Prints one row per size with the slowest tasks of each rerun. Figures only: nothing is
asserted beyond the rerun's changed=0. The lab (the web profile's guests) goes down at
the end unless --keep. Needs root (the lab does).
"""

from __future__ import annotations

import argparse
import copy
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from lvslab.testing import LVSLAB, REPO, ansible_env, import_collection, up

import_collection()

from ansible_collections.lvs.cluster.plugins.module_utils import lvs_model  # noqa: E402

INVENTORY = REPO / "inventory" / "web"
FIRST_PORT = 10000
HOSTS = ("dir1", "dir2", "rs1", "rs2", "rs3")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def scaled_model(count: int) -> dict:
    """The web model with `count` TCP services on the DR VIP and no shared storage."""
    base = yaml.safe_load((INVENTORY / "group_vars/all/topology.yml").read_text())
    model = copy.deepcopy(base)
    model["lvs_storage"] = None
    model["lvs_services"] = [
        {
            "name": f"svc-{i}",
            "vip": "web-dr",
            "protocol": "tcp",
            "port": FIRST_PORT + i,
            "scheduler": "wlc",
            "method": "dr",
            "check": {"type": "TCP_CHECK", "connect_timeout": 2, "delay_loop": 30},
            "real_servers": [{"host": h, "port": FIRST_PORT + i} for h in ("rs1", "rs2", "rs3")],
        }
        for i in range(count)
    ]
    last = FIRST_PORT + max(count - 1, 1)
    model["lvs_applications"] = {
        "scaled": {
            "managed": False,
            "hosts": ["realservers"],
            "listen": [{"protocol": "tcp", "port": f"{FIRST_PORT}:{last}"}],
        }
    }
    return {k: v for k, v in model.items() if k.startswith("lvs_")}


def plan_in_process(model: dict) -> float:
    """Best of five: the preflight's validation and projection for every host."""
    network = yaml.safe_load((INVENTORY / "group_vars/all/network.yml").read_text())
    hosts_file = yaml.safe_load((INVENTORY / "hosts.yml").read_text())
    hosts, groups = {}, {}
    for group, body in hosts_file["all"]["children"].items():
        groups[group] = list(body["hosts"])
        hosts.update(body["hosts"])
    variables = {**network, **model}
    raw = lvs_model.model_from_vars({k: v for k, v in variables.items() if v is not None})
    groups["all"] = list(hosts)
    best = float("inf")
    for _ in range(5):
        began = time.perf_counter()
        lvs_model.build_plan(raw, hosts, groups, {"pki_root": "/nonexistent"})
        best = min(best, time.perf_counter() - began)
    return best


def playbook(lab_inventory: list[str], extra_vars: Path, *args: str) -> tuple[float, str]:
    binary = Path(sys.executable).with_name("ansible-playbook")
    cmd = [str(binary)]
    for inv in lab_inventory:
        cmd += ["-i", inv]
    cmd += ["site.yml", "-e", f"@{extra_vars}", *args]
    env = ansible_env(ANSIBLE_CALLBACKS_ENABLED="lvs.cluster.task_timer")
    began = time.monotonic()
    proc = subprocess.run(
        cmd, cwd=REPO, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL
    )
    took = time.monotonic() - began
    if proc.returncode:
        raise SystemExit(f"{' '.join(args)} failed after {took:.0f} s:\n{proc.stdout[-4000:]}")
    return took, proc.stdout


def changed_total(out: str) -> int:
    return sum(int(n) for n in re.findall(r"^\S+\s+: ok=\d+\s+changed=(\d+)", out, re.M))


def slowest(out: str, count: int = 3) -> str:
    """The task timer's first rows: 'name 1.2s'."""
    rows = re.findall(r"^\s*([\d.]+) s  (.+?)\s*$", out.split("TASK TIMES", 1)[-1], re.M)
    return "; ".join(f"{name} {secs} s" for secs, name in rows[:count])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, nargs="+", default=[4, 100, 500])
    parser.add_argument("--name", default="bench-scale")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="lvs-bench-scale-"))
    log(f"lab {args.name} (web profile), logs in {workdir}")
    lab, started = up("web", args.name)
    inventory = [str(INVENTORY), lab.state["inventory"]]
    rows = []
    try:
        for count in args.services:
            model = scaled_model(count)
            extra = workdir / f"model-{count}.yml"
            extra.write_text(yaml.safe_dump(model))
            in_process = plan_in_process(model)
            preflight, _ = playbook(inventory, extra, "--limit", "localhost", "-i", "localhost,")
            limit = ["--limit", ",".join(HOSTS)]
            converge, _ = playbook(inventory, extra, *limit)
            log(f"{count} services: converge {converge:.1f} s")
            rerun, out = playbook(inventory, extra, *limit)
            (workdir / f"rerun-{count}.log").write_text(out)
            changed = changed_total(out)
            if changed:
                raise SystemExit(f"{count} services: the rerun changed {changed} (see {workdir})")
            rows.append((count, in_process, preflight, converge, rerun, slowest(out)))
            log(f"{count} services: rerun {rerun:.1f} s, changed=0")
    finally:
        if started and not args.keep:
            subprocess.run([*LVSLAB, "down", "--name", args.name], check=False)
    print(f"\n{'services':>8}  {'plan':>8}  {'preflight':>9}  {'converge':>8}  {'rerun':>7}")
    for count, in_process, preflight, converge, rerun, _ in rows:
        print(
            f"{count:>8}  {in_process * 1000:>6.1f}ms  {preflight:>8.1f}s  "
            f"{converge:>7.1f}s  {rerun:>6.1f}s"
        )
    print("\nslowest tasks of each rerun:")
    for count, *_, tasks in rows:
        print(f"  {count:>4} services: {tasks}")
    print(
        "\nplan: lvs_model.build_plan in-process (best of 5); preflight: site.yml --limit "
        "localhost (Ansible start-up + the preflight play); converge/rerun: site.yml on "
        f"{', '.join(HOSTS)}, the rerun with changed=0."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
