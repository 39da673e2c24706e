"""`make test`, stage by stage, with the time of each printed as a table at the end.

    python -m lvslab.stages [STAGE ...]     (default: every stage, in order)

Stages: lint, unit, kernel, then one per Molecule scenario (molecule/<name>/molecule.yml,
in name order). A failing stage ends the run (the budget is for a green run); the table
shows what ran, with the failure marked, and the exit status is the failing stage's.
"""

from __future__ import annotations

import subprocess
import sys
import time

from .paths import repo_root

REPO = repo_root()
# the budget of a whole run on the build machine (two cores), in seconds
BUDGET_S = 60 * 60


def stages() -> list[tuple[str, list[str]]]:
    out = [
        ("lint", ["make", "--no-print-directory", "lint"]),
        ("unit", ["make", "--no-print-directory", "unit"]),
        ("kernel", ["make", "--no-print-directory", "kernel"]),
    ]
    for config in sorted((REPO / "molecule").glob("*/molecule.yml")):
        name = config.parent.name
        out.append((f"molecule {name}", ["molecule", "test", "-s", name]))
    return out


def table(rows: list[tuple[str, float, str]]) -> str:
    total = sum(seconds for _, seconds, _ in rows)
    lines = ["", "stage              time     result", "-" * 36]
    lines += [f"{name:<18} {seconds / 60:5.1f} min  {result}" for name, seconds, result in rows]
    lines += ["-" * 36, f"{'total':<18} {total / 60:5.1f} min  (budget {BUDGET_S / 60:.0f} min)"]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    wanted = set(argv)
    rows: list[tuple[str, float, str]] = []
    status = 0
    for name, cmd in stages():
        if wanted and name not in wanted and name.split()[-1] not in wanted:
            continue
        print(f"\n=== {name}: {' '.join(cmd)}", flush=True)
        began = time.monotonic()
        status = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, check=False).returncode
        rows.append((name, time.monotonic() - began, "ok" if status == 0 else f"FAILED ({status})"))
        if status:
            break
    print(table(rows), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
