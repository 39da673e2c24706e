"""The web scenario's lab, seen from the client side and from the guests."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from lvslab.testing import Lab

DR, TUN, NAT = "192.0.2.100", "192.0.2.101", "192.0.2.102"
REAL_SERVERS = ["rs1", "rs2", "rs3"]
CA = Path(os.environ.get("HOME", "/root")) / ".local/share/lvs-cluster/pki/web/ca.crt"


@pytest.fixture(scope="session")
def lab() -> Lab:
    return Lab(os.environ.get("LVS_LAB", "mol-web"))


def wait_for(what: str, check, timeout: float = 60, interval: float = 0.5):
    """Poll check() until it returns something truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def holds(lab: Lab, guest: str, address: str) -> bool:
    out = lab.ssh("ip -o -4 addr show", guest=guest, check=False, timeout=20)
    return out.returncode == 0 and f" {address}/" in out.stdout


def weights(lab: Lab, vip: str, guest: str = "dir1") -> dict[str, int]:
    """{real server address: weight} of one TCP port-80 service, as the kernel has it."""
    out = lab.ssh(f"ipvsadm -Ln -t {vip}:80", guest=guest).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("->") and parts[1][0].isdigit():
            table[parts[1].rsplit(":", 1)[0]] = int(parts[3])
    return table
