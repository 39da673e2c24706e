"""Kernel tests run in a lab guest: a real Linux 6.1 kernel with IPVS.

The session fixture ``lab`` boots the ``smoke`` profile as lab ``kernel`` (``kernel-gw0``,
``kernel-gw1``... per pytest-xdist worker, so that workers never share a guest) unless a
lab of that name is already up, which it then reuses and leaves up. It offers:
  lab.ssh(cmd, guest="dir1", check=True)          -> CompletedProcess (text)
  lab.module(name, args, guest="dir1", check_mode=False, diff=False) -> result dict
  lab.python(code, guest="dir1", check=True)      -> CompletedProcess; the collection's
      module_utils import as ansible_collections.lvs.cluster.plugins.module_utils
"""

from __future__ import annotations

import os
import subprocess

import pytest

from lvslab.testing import import_collection, up

# the tests take the collection's own lists (ipvs_model.SCHEDULERS) rather than copies
import_collection()
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
LAB_NAME = os.environ.get("LVS_KERNEL_LAB") or (f"kernel-{_WORKER}" if _WORKER else "kernel")


# The longest files first: pytest-xdist (--dist loadfile) hands files out in this order,
# so the two workers start on the long ones and the short ones fill in around them,
# instead of one long file running alone at the end.
LONGEST_FIRST = (
    "test_nfs_roles.py",
    "test_realserver_roles.py",
    "test_glusterfs_modules.py",
    "test_realserver_module.py",
    "test_lab.py",
)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: file order kept


@pytest.fixture(scope="session")
def lab():
    # `up` reuses a running lab of that name and clears the remains of a dead one
    lab, started = up("smoke", LAB_NAME)
    try:
        yield lab
    finally:
        if started and not os.environ.get("LVS_KEEP_LAB"):
            subprocess.run(["lvslab", "down", "--name", LAB_NAME], check=False)
