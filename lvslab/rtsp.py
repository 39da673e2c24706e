"""An RTSP client that keeps its control connection, for tests and benchmarks.

ffmpeg plays a stream but gives no handle on its control connection; the lab's failure
tests need one: DESCRIBE, SETUP (UDP), PLAY, then GET_PARAMETER requests on the same
TCP connection across a director takeover, with RTCP receiver reports sent from the
client's RTCP port to the server's, as a player sends them.

    with RtspSession("rtsp://192.0.2.110/clip.mp4", netns="lvslab-mol-media-client-131") as s:
        s.play()                 # DESCRIBE, SETUP, PLAY; RTP counted, RTCP sent each second
        s.get_parameter()        # -> the status code (200) on the same connection

Sockets are made inside a network namespace (the client's own address) by a thread
that enters it; once made, they work from any thread.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import struct
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

RTCP_RR = 201


def in_netns(netns: str | None, make):
    """Run make() in a thread that entered the network namespace; return its result."""
    if netns is None:
        return make()
    out: dict = {}

    def run() -> None:
        try:
            with open(f"/run/netns/{netns}") as fd:
                os.setns(fd.fileno(), os.CLONE_NEWNET)
            out["value"] = make()
        except BaseException as exc:  # handed to the caller
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def receiver_report(ssrc: int) -> bytes:
    """An RTCP receiver report without report blocks (RFC 3550 6.4.2)."""
    return struct.pack("!BBHI", 0x80, RTCP_RR, 1, ssrc)


class RtspError(OSError):
    pass


class RtspSession:
    def __init__(self, url: str, netns: str | None = None, timeout: float = 5):
        self.url, self.timeout = url, timeout
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 554
        self.cseq = 0
        self.session: str | None = None
        self.server_ports: tuple[int, int] | None = None
        self.rtp_packets = 0
        self.rtcp_sent = 0
        self.ssrc = int.from_bytes(os.urandom(4), "big")
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.control, self.rtp, self.rtcp = in_netns(netns, self._sockets)
        self.client_ports = (self.rtp.getsockname()[1], self.rtcp.getsockname()[1])

    def _sockets(self):
        control = socket.create_connection((self.host, self.port), timeout=self.timeout)
        # an even RTP port and the next one for RTCP, as RFC 3550 asks
        for _ in range(50):
            rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            rtp.bind(("0.0.0.0", 0))
            port = rtp.getsockname()[1]
            if port % 2 == 0:
                rtcp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    rtcp.bind(("0.0.0.0", port + 1))
                except OSError:
                    rtp.close()
                    rtcp.close()
                    continue
                rtp.settimeout(0.5)
                return control, rtp, rtcp
            rtp.close()
        raise RtspError("no free RTP/RTCP port pair")

    # -- RTSP ----------------------------------------------------------------------------

    def request(self, method: str, url: str | None = None, headers: dict | None = None):
        """(status, headers, body) of one request on the control connection."""
        self.cseq += 1
        lines = [f"{method} {url or self.url} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.session:
            lines.append(f"Session: {self.session}")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.control.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return self._response()

    def _response(self):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.control.recv(4096)
            if not chunk:
                raise RtspError("the server closed the control connection")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split()[1])
        fields = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        length = int(fields.get("content-length", 0))
        while len(body) < length:
            chunk = self.control.recv(4096)
            if not chunk:
                raise RtspError("the server closed the control connection")
            body += chunk
        return status, fields, body.decode(errors="replace")

    def _expect(self, method: str, **kw):
        status, fields, body = self.request(method, **kw)
        if status != 200:
            raise RtspError(f"{method}: RTSP {status}")
        return fields, body

    def play(self) -> None:
        """DESCRIBE, SETUP the first stream over UDP, PLAY; then receive and report."""
        fields, sdp = self._expect("DESCRIBE", headers={"Accept": "application/sdp"})
        base = fields.get("content-base", self.url).rstrip("/")
        controls = re.findall(r"^a=control:(\S+)", sdp, re.M)
        track = next((c for c in controls if c != "*"), None)
        if track is None:
            raise RtspError("the SDP names no stream")
        track_url = track if "://" in track else f"{base}/{track}"
        rtp, rtcp = self.client_ports
        fields, _ = self._expect(
            "SETUP",
            url=track_url,
            headers={"Transport": f"RTP/AVP;unicast;client_port={rtp}-{rtcp}"},
        )
        self.session = fields["session"].split(";")[0]
        ports = re.search(r"server_port=(\d+)-(\d+)", fields.get("transport", ""))
        if not ports:
            raise RtspError(f"SETUP: no server_port in {fields.get('transport')!r}")
        self.server_ports = (int(ports[1]), int(ports[2]))
        self._expect("PLAY", url=base)
        for target in (self._receive, self._report):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def get_parameter(self) -> int:
        """GET_PARAMETER on the control connection (a keep-alive): the status code."""
        return self.request("GET_PARAMETER")[0]

    # -- RTP and RTCP --------------------------------------------------------------------

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                self.rtp.recv(65536)
                self.rtp_packets += 1
            except TimeoutError:
                continue
            except OSError:
                return

    def _report(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.rtcp.sendto(receiver_report(self.ssrc), (self.host, self.server_ports[1]))
                self.rtcp_sent += 1
            except OSError:
                continue  # no route for a moment (a takeover): the next report goes

    def close(self) -> None:
        self._stop.set()
        if self.session:
            with contextlib.suppress(OSError):  # the server may be gone: nothing to end
                self.request("TEARDOWN")
        for thread in self._threads:
            thread.join(timeout=2)
        for sock in (self.control, self.rtp, self.rtcp):
            sock.close()

    def __enter__(self) -> RtspSession:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def session_setup_time(url: str, netns: str | None = None) -> float:
    """Seconds from connect to PLAY answered, one session (benchmarks)."""
    began = time.monotonic()
    with RtspSession(url, netns=netns) as session:
        session.play()
        return time.monotonic() - began


CLIP_FPS = 25


def make_clip(path: Path, seconds: int) -> None:
    """A test clip made with ffmpeg: H.264 in MP4, 25 frames/s, about 800 kbit/s (noise
    keeps the rate up, so that players send RTCP receiver reports often: ffmpeg sends
    one per ~56 kB received)."""
    subprocess.run(
        [
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=480x270:rate={CLIP_FPS},noise=alls=25:allf=t",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "veryfast",
            "-profile:v", "baseline", "-pix_fmt", "yuv420p", "-g", str(CLIP_FPS),
            "-b:v", "800k", "-maxrate", "800k", "-bufsize", "400k",
            "-movflags", "+faststart", str(path),
        ],
        check=True,
    )  # fmt: skip
