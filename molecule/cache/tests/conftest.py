"""The cache scenario's lab (lvslab.webcache holds the URL set, the client and the
logs that the tests and bench/cache_hit.py share)."""

from __future__ import annotations

import os

import pytest

from lvslab.testing import Lab, wait_for  # noqa: F401 (the tests import it from here)
from lvslab.webcache import (  # noqa: F401 (the tests import them from here)
    CACHES,
    CLIENTS,
    OBJECTS,
    ORIGINS,
    fetch,
    origin_fetches,
    squid_log,
    url_set,
)


@pytest.fixture(scope="session")
def lab() -> Lab:
    return Lab(os.environ.get("LVS_LAB", "mol-cache"))
