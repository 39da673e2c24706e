"""The master director crashes: the backup takes the VIPs and, thanks to connection
sync, established connections carry on; the recovered master takes the VIPs back after
its preempt delay, and the connections carry on again."""

import json
import time
from pathlib import Path

from conftest import DR, holds, wait_for

STOP_FILE = "/tmp/lvs-web-hold.stop"


def test_established_connections_survive_takeover_and_failback(lab):
    Path(STOP_FILE).unlink(missing_ok=True)
    hold = lab.probe_background(
        "hold",
        f"http://{DR}/",
        "--connections",
        "20",
        "--seconds",
        "240",
        "--stop-file",
        STOP_FILE,
        "--timeout",
        "10",
    )
    try:
        time.sleep(4)  # every connection is established and synced to dir2
        assert hold.poll() is None
        lab.lvslab("crash", "dir1")
        crashed = time.monotonic()
        wait_for("dir2 to take the VIP", lambda: holds(lab, "dir2", DR), 30, 0.1)
        print(f"dir2 holds the VIP {time.monotonic() - crashed:.1f} s after the crash")
        watch = lab.probe("watch", f"http://{DR}/", "--seconds", "3")
        assert watch["failures"] == 0, watch
        time.sleep(3)  # data exchanged on every connection through dir2
        lab.lvslab("start", "dir1")
        wait_for("dir1 to take the VIP back", lambda: holds(lab, "dir1", DR), 120, 0.2)
        assert wait_for("dir2 to let the VIP go", lambda: not holds(lab, "dir2", DR), 30)
        time.sleep(4)  # data exchanged on every connection through dir1 again
    finally:
        Path(STOP_FILE).touch()
        out, err = hold.communicate(timeout=60)
        assert out, err
        Path(STOP_FILE).unlink(missing_ok=True)
    result = json.loads(out)
    broken = [r for r in result["results"] if r["failures"] or not r["server"]]
    assert result["survived"] == 20, broken
    # each connection kept exchanging data all along (about one request a second)
    assert min(r["ok"] for r in result["results"]) >= 10


def test_the_notifier_followed_the_vrrp_states(lab):
    # dir2 went MASTER on the crash and back to BACKUP on the failback; dir1 is MASTER
    log = lab.ssh("cat /var/log/lvs-notify.log", guest="dir2").stdout
    states = [line.split()[3] for line in log.splitlines() if " GROUP lvs " in line]
    assert states[-2:] == ["MASTER", "BACKUP"], states
    assert lab.ssh("cat /run/lvs/vrrp-lvs", guest="dir2").stdout.strip() == "BACKUP"
    assert lab.ssh("cat /run/lvs/vrrp-lvs", guest="dir1").stdout.strip() == "MASTER"
