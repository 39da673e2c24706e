"""The media scenario's lab: clients with addresses of their own, the media they play
(made here with ffmpeg, put once on the NFS share), the servers' session records."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from lvslab import lab as lablib
from lvslab.rtsp import CLIP_FPS, make_clip  # noqa: F401 (the tests import CLIP_FPS here)
from lvslab.testing import Lab, holds, wait_for  # noqa: F401 (the tests import them from here)

VIP = "192.0.2.110"
SERVERS = ["media1", "media2"]
# the director reaches them on the front segment (DR)
SERVER_OF = {"192.0.2.31": "media1", "192.0.2.32": "media2"}
EXPORT = "/srv/nfs/media"  # store1's export of the media share
CLIP = "clip.mp4"
CLIP_SECONDS = 30


def client_address(n: int) -> str:
    """The address of client n, in a namespace of its own (lvslab client --address)."""
    return f"203.0.113.{130 + n}"


@pytest.fixture(scope="session")
def lab() -> Lab:
    return Lab(os.environ.get("LVS_LAB", "mol-media"))


def put_on_share(lab: Lab, name: str, seconds: int = CLIP_SECONDS) -> None:
    """Make a clip on the controller and write it once, on the NFS server's export."""
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / name
        make_clip(local, seconds)
        lab.ssh(
            f"cat > {EXPORT}/.{name}.part && mv {EXPORT}/.{name}.part {EXPORT}/{name}",
            guest="store1",
            input=local.read_bytes(),
        )


@pytest.fixture(scope="session")
def clip(lab: Lab) -> str:
    assert shutil.which("ffmpeg"), "ffmpeg (Debian's package) plays the streams"
    put_on_share(lab, CLIP)
    # both servers see it on their mount, and list it within their rescan period
    for server in SERVERS:
        wait_for(
            f"{server} to serve {CLIP}",
            lambda s=server: serves(lab, s, CLIP),
            20,
            0.5,
        )
    return f"rtsp://{VIP}/{CLIP}"


def serves(lab: Lab, server: str, name: str) -> bool:
    """The server's RTSP daemon describes the file (asked on the server itself)."""
    probe = (
        "printf 'DESCRIBE rtsp://127.0.0.1/%s RTSP/1.0\\r\\nCSeq: 1\\r\\n\\r\\n' "
        f"{name} | nc -w 2 127.0.0.1 554 | head -1"
    )
    return "200" in lab.ssh(probe, guest=server, check=False).stdout


def client_ns(lab: Lab, n: int) -> str:
    """Client n's namespace, holding its address only (made on first use)."""
    return lablib.client_namespace(lab.name, client_address(n))


def play(lab: Lab, url: str, seconds: int, client: int) -> subprocess.Popen:
    """ffmpeg playing url over UDP for seconds, from client n's own address."""
    return subprocess.Popen(
        [
            "ip", "netns", "exec", client_ns(lab, client), "ffmpeg", "-nostdin",
            "-hide_banner", "-nostats", "-rtsp_transport", "udp",
            # socket I/O timeout (microseconds): a dead server fails the session fast
            "-timeout", "3000000", "-i", url,
            "-t", str(seconds), "-f", "null", "-",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def frames(output: str) -> int:
    """Frames ffmpeg decoded (its last progress line)."""
    found = re.findall(r"frame=\s*(\d+)", output)
    return int(found[-1]) if found else 0


def records(lab: Lab, client: str | None = None, servers=SERVERS) -> list[dict]:
    """Every session record on the servers (optionally of one client), oldest first."""
    out = []
    for server in servers:
        text = lab.ssh(
            "for f in /run/lvs-media/sessions/*.json; do [ -f $f ] && cat $f && echo; done; true",
            guest=server,
        ).stdout
        out += [json.loads(line) for line in text.splitlines() if line.strip()]
    out = [r for r in out if client is None or r.get("client") == client]
    return sorted(out, key=lambda r: r["started"])


def connections(lab: Lab, guest: str = "dir1") -> list[dict]:
    """The director's IPVS connection entries: protocol, client, server, state."""
    out = []
    for line in lab.ssh("ipvsadm -Lcn", guest=guest).stdout.splitlines()[2:]:
        parts = line.split()
        if len(parts) >= 6:
            out.append(
                {
                    "protocol": parts[0],
                    "state": parts[2],
                    "client": parts[3].rsplit(":", 1)[0],
                    "client_port": int(parts[3].rsplit(":", 1)[1]),
                    "virtual": parts[4],
                    "server": SERVER_OF.get(parts[5].rsplit(":", 1)[0], parts[5]),
                }
            )
    return out
