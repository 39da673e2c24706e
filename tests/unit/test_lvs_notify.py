"""The director's notifier, as keepalived calls it: sync group, single instance, checkers."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "roles/lvs_director/files/usr/local/sbin/lvs-notify"


@pytest.fixture
def notify(tmp_path):
    hooks = tmp_path / "etc/lvs/notify.d"
    hooks.mkdir(parents=True)
    hook = hooks / "record"
    hook.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path}/hook.log\n')
    hook.chmod(0o755)
    (hooks / "not-executable").write_text("#!/bin/sh\nexit 1\n")

    def run(*args):
        env = {**os.environ, "LVS_NOTIFY_ROOT": str(tmp_path)}
        proc = subprocess.run(["sh", str(SCRIPT), *args], env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return tmp_path

    return run


def test_sync_group_state_is_kept_under_the_group_name(notify):
    # keepalived: GROUP <name> <state> for a sync group (two or more instances)
    notify("GROUP", "lvs", "MASTER")
    root = notify("GROUP", "lvs", "BACKUP")
    assert (root / "run/lvs/vrrp-lvs").read_text() == "BACKUP\n"
    log = (root / "var/log/lvs-notify.log").read_text().splitlines()
    # what the web scenario reads: the state is the fourth field after the time stamp
    assert [line.split()[3] for line in log if " GROUP lvs " in line] == ["MASTER", "BACKUP"]
    assert (root / "hook.log").read_text() == "GROUP lvs MASTER\nGROUP lvs BACKUP\n"


def test_single_instance_state_is_kept_under_the_instance_name(notify):
    # keepalived: INSTANCE <name> <state> <priority> for an instance outside a group
    root = notify("INSTANCE", "front", "MASTER", "150")
    assert (root / "run/lvs/vrrp-front").read_text() == "MASTER\n"
    assert (root / "var/log/lvs-notify.log").read_text().split()[1:] == [
        "INSTANCE", "front", "MASTER", "150",
    ]  # fmt: skip
    assert (root / "hook.log").read_text() == "INSTANCE front MASTER 150\n"


def test_checker_events_are_logged_without_a_state_file(notify):
    root = notify("DOWN", "web-http-dr", "rs1")
    assert not (root / "run/lvs").exists()
    assert " DOWN web-http-dr rs1" in (root / "var/log/lvs-notify.log").read_text()
    assert (root / "hook.log").read_text() == "DOWN web-http-dr rs1\n"
