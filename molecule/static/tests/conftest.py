"""The static scenario's lab: one director, two real servers, three GlusterFS servers."""

from __future__ import annotations

import os

import pytest

from lvslab.testing import Lab, wait_for  # noqa: F401 (the tests import it from here)

DR, NAT = "192.0.2.100", "192.0.2.102"


@pytest.fixture(scope="session")
def lab() -> Lab:
    return Lab(os.environ.get("LVS_LAB", "mol-static"))
