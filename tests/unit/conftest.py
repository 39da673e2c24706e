"""Make this checkout importable as ansible_collections.lvs.cluster, with or without `make`."""

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _collections_root() -> str:
    linked = ROOT / "collections"
    if (linked / "ansible_collections" / "lvs" / "cluster" / "plugins").is_dir():
        return str(linked)
    # a fresh clone before `make`: link the checkout into a private tree
    tree = Path(tempfile.mkdtemp(prefix="lvs-unit-"))
    (tree / "ansible_collections" / "lvs").mkdir(parents=True)
    os.symlink(ROOT, tree / "ansible_collections" / "lvs" / "cluster")
    return str(tree)


sys.path.insert(0, _collections_root())
