"""The web scenario's lab, seen from the client side and from the guests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lvslab.testing import Lab, holds, wait_for  # noqa: F401 (the tests import it from here)

DR, TUN, NAT = "192.0.2.100", "192.0.2.101", "192.0.2.102"
REAL_SERVERS = ["rs1", "rs2", "rs3"]
CA = Path(os.environ.get("HOME", "/root")) / ".local/share/lvs-cluster/pki/web/ca.crt"


@pytest.fixture(scope="session")
def lab() -> Lab:
    return Lab(os.environ.get("LVS_LAB", "mol-web"))


def weights(lab: Lab, vip: str, guest: str = "dir1") -> dict[str, int]:
    """{real server address: weight} of one TCP port-80 service, as the kernel has it."""
    out = lab.ssh(f"ipvsadm -Ln -t {vip}:80", guest=guest).stdout
    table = {}
    for line in out.splitlines():
        parts = line.split()
        if line.strip().startswith("->") and parts[1][0].isdigit():
            table[parts[1].rsplit(":", 1)[0]] = int(parts[3])
    return table
