"""lvs-media-server on the build host: Debian's gst-rtsp-server (the host packages the
Makefile installs), a clip made with ffmpeg, and lvslab.rtsp as the client, on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from lvslab.rtsp import RtspSession, make_clip

REPO = Path(__file__).resolve().parents[2]
SERVER = REPO / "roles" / "media" / "files" / "lvs-media-server"
PAIRS = 2  # RTP/RTCP pairs in the test's port range


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("media")
    (root / "shows").mkdir()
    make_clip(root / "shows" / "clip.mp4", 20)
    (root / "notes.txt").write_text("not a stream")
    sessions = tmp_path_factory.mktemp("sessions")
    port, rtp = free_port(), 40000 + 2 * (free_port() % 5000)  # RTP on an even port
    config = tmp_path_factory.mktemp("etc") / "server.json"
    config.write_text(
        json.dumps(
            {
                "root": str(root),
                "rtsp_port": port,
                "rtp_address": "127.0.0.1",
                "rtp_ports": [rtp, rtp + 2 * PAIRS - 1],
                "max_sessions": PAIRS,
                "sessions_dir": str(sessions),
            }
        )
    )
    proc = subprocess.Popen(
        ["/usr/bin/python3", str(SERVER), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.2)
    yield {"url": f"rtsp://127.0.0.1:{port}", "root": root, "sessions": sessions, "rtp": rtp}
    proc.terminate()
    proc.wait(timeout=10)


def records(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("session-*.json"))]


def test_a_session_plays_and_leaves_its_record(server):
    with RtspSession(f"{server['url']}/shows/clip.mp4") as session:
        session.play()
        time.sleep(2.5)
        assert session.get_parameter() == 200
        assert session.rtp_packets > 20
        assert server["rtp"] <= session.server_ports[0] < server["rtp"] + 2 * PAIRS
        assert session.server_ports[0] % 2 == 0
        mine = session.session
    record = next(r for r in records(server["sessions"]) if r["session"] == mine)
    assert record["client"] == "127.0.0.1"
    assert record["file"] == "shows/clip.mp4"
    assert record["rtcp_reports"] >= 2
    assert record["rtcp_from"] == [f"127.0.0.1:{session.client_ports[1]}"]
    assert record["get_parameter"] == 1
    assert record["streams"][0]["client_ports"] == list(session.client_ports)
    assert record["ended"] is not None  # TEARDOWN


def test_only_media_files_are_served(server):
    for path in ("notes.txt", "missing.mp4", "../etc/passwd.mp4"):
        with RtspSession(f"{server['url']}/{path}") as session:
            status, _, _ = session.request("DESCRIBE")
            assert status == 404, path


def test_a_file_added_to_the_folder_is_served_within_the_rescan(server):
    (server["root"] / "new.mp4").write_bytes((server["root"] / "shows" / "clip.mp4").read_bytes())
    deadline = time.monotonic() + 5
    while True:
        with RtspSession(f"{server['url']}/new.mp4") as session:
            if session.request("DESCRIBE")[0] == 200:
                break
        assert time.monotonic() < deadline, "new.mp4 not served 5 s after it was added"
        time.sleep(0.5)


def test_the_port_range_caps_the_sessions(server):
    sessions = [RtspSession(f"{server['url']}/shows/clip.mp4") for _ in range(PAIRS + 1)]
    try:
        for session in sessions[:PAIRS]:
            session.play()
        with pytest.raises(OSError, match="SETUP: RTSP"):
            sessions[PAIRS].play()
    finally:
        for session in sessions:
            session.close()


CHECK = REPO / "roles" / "lvs_director" / "files" / "usr" / "local" / "sbin" / "lvs-check-rtsp"


def check(port: int) -> int:
    return subprocess.run(
        ["/usr/bin/python3", str(CHECK), "127.0.0.1", str(port), "1"], timeout=10
    ).returncode


def test_rtsp_check_wants_an_rtsp_200(server):
    assert check(int(server["url"].rsplit(":", 1)[1])) == 0
    assert check(free_port()) == 1  # nothing listens
    # something listens but does not speak RTSP
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        answer = subprocess.Popen(
            ["/usr/bin/python3", "-c",
             "import socket, sys; s = socket.socket(fileno=int(sys.argv[1])); c, _ = s.accept(); "
             "c.recv(100); c.sendall(b'HTTP/1.1 200 OK\\r\\n\\r\\n')", str(listener.fileno())],
            pass_fds=[listener.fileno()],
        )  # fmt: skip
        assert check(port) == 1
        answer.wait(timeout=10)
