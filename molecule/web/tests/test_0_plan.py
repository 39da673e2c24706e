"""The model is validated once per run: the preflight computes the plan, every later
play reads it (the converge and the idempotence run, each with forks)."""

from __future__ import annotations

import collections
from pathlib import Path

LOG = Path("/tmp/lvs-model-web.log")


def test_one_validation_per_site_run():
    runs: dict[str, str] = {}
    validations: collections.Counter = collections.Counter()
    workers: dict[str, set] = collections.defaultdict(set)
    for line in LOG.read_text().splitlines():
        run, kind, rest = line.split(" ", 2)
        if kind == "start":
            if "create.yml" in rest:
                # a new lab: forget the runs of earlier scenarios
                runs.clear()
                validations.clear()
            runs[run] = rest
        elif run in runs:
            validations[run] += 1
            workers[run].add(kind)
    converges = [run for run, argv in runs.items() if "converge.yml" in argv]
    print("validations per converge run:", [validations[r] for r in converges])
    # the converge and the idempotence check
    assert len(converges) >= 2, runs
    assert all(validations[run] == 1 for run in converges), validations
    # the one validation ran in a forked worker, not in the main process
    assert all(workers[run] - {run} for run in converges), workers
