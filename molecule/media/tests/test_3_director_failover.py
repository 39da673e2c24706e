"""The master director crashes during a session: the backup held the client's template
and connections before the crash (sync), so the same RTSP control connection keeps
working through it and the client's RTCP keeps reaching the same server. With the sync
daemons stopped the same check fails (negative control)."""

import time

from conftest import SERVERS, VIP, client_address, client_ns, connections, holds, records, wait_for

from lvslab.rtsp import RtspSession

URL = f"rtsp://{VIP}/clip.mp4"


def record_of(lab, session_id: str) -> dict:
    return next(r for r in records(lab) if r["session"] == session_id)


def synced(lab, address: str) -> list[dict]:
    return [c for c in connections(lab, guest="dir2") if c["client"] == address]


def wait_all_up(lab) -> None:
    for guest in ("dir1", *SERVERS):
        wait_for(
            f"{guest} to answer",
            lambda g=guest: lab.ssh("systemctl is-system-running --wait", guest=g,
                                    check=False, timeout=60).returncode in (0, 1),
            120,
            1,
        )  # fmt: skip


def takeover(lab) -> float:
    lab.lvslab("crash", "dir1")
    crashed = time.monotonic()
    wait_for("dir2 to take the VIP", lambda: holds(lab, "dir2", VIP), 30, 0.1)
    return time.monotonic() - crashed


def test_control_connection_and_rtcp_survive_a_takeover(lab, clip):
    wait_all_up(lab)  # the real server crashed by the previous test is back
    wait_for("dir1 to hold the VIP", lambda: holds(lab, "dir1", VIP), 60, 0.5)
    address = client_address(30)
    with RtspSession(URL, netns=client_ns(lab, 30)) as session:
        session.play()
        time.sleep(3)  # RTCP on its way, everything synced to dir2
        before = record_of(lab, session.session)
        mine = synced(lab, address)
        print(f"dir2 before the crash: {len(mine)} entries of the client: {mine}")
        assert any(c["client_port"] == 0 for c in mine), mine  # the template
        assert any(c["protocol"] == "TCP" and c["client_port"] for c in mine), mine
        assert {c["server"] for c in mine} == {before["server"]}, mine

        took = takeover(lab)
        stalled = time.monotonic()
        status = session.get_parameter()
        stall = time.monotonic() - stalled
        print(f"dir2 holds the VIP {took:.1f} s after the crash; GET_PARAMETER {status} "
              f"through it after {stall:.2f} s")  # fmt: skip
        assert status == 200
        time.sleep(3)
        assert session.get_parameter() == 200
        after = record_of(lab, session.session)
    assert after["server"] == before["server"]
    assert after["get_parameter"] >= 2
    assert after["rtcp_reports"] >= before["rtcp_reports"] + 2, (before, after)


def test_without_sync_the_backup_drops_the_session(lab, clip):
    # dir1 returns and takes the VIP back after its preempt delay; then no sync at all
    lab.lvslab("start", "dir1")
    wait_for("dir1 to take the VIP back", lambda: holds(lab, "dir1", VIP), 120, 0.5)
    for guest in ("dir1", "dir2"):
        lab.ssh(
            "ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; "
            "ipvsadm -L --daemon | grep -c . || true",
            guest=guest,
        )
    address = client_address(31)
    with RtspSession(URL, netns=client_ns(lab, 31)) as session:
        session.play()
        time.sleep(3)
        assert session.get_parameter() == 200
        assert synced(lab, address) == []
        takeover(lab)
        try:
            status = session.get_parameter()
        except OSError as exc:  # reset by dir2, which has no connection entry
            status = f"failed: {exc.__class__.__name__}"
        print(f"without sync, GET_PARAMETER after the takeover: {status}")
        assert status != 200
