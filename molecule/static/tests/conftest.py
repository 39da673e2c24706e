"""The static scenario's lab: one director, two real servers, three GlusterFS servers."""

from __future__ import annotations

import os
import time

import pytest

from lvslab.testing import Lab

DR, NAT = "192.0.2.100", "192.0.2.102"


@pytest.fixture(scope="session")
def lab() -> Lab:
    return Lab(os.environ.get("LVS_LAB", "mol-static"))


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
