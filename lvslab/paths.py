"""Where the lab keeps images and running labs (outside any checkout)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR = Path(os.environ.get("LVSLAB_CACHE", "/var/cache/lvslab"))
STATE_DIR = Path(os.environ.get("LVSLAB_STATE", "/var/lib/lvslab"))
IMAGES_DIR = CACHE_DIR / "images"
LABS_DIR = STATE_DIR / "labs"


def repo_root() -> Path:
    """The checkout this package was installed from (inventory/ lives there)."""
    env = os.environ.get("LVSLAB_REPO")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent


def lab_dir(name: str) -> Path:
    return LABS_DIR / name


def netns_name(name: str) -> str:
    return f"lvslab-{name}"


def client_netns_name(name: str, address: str | None = None) -> str:
    """The lab's client namespace, or the one of a client with one address of its own."""
    if address is None:
        return f"lvslab-{name}-client"
    return f"lvslab-{name}-client-{address.rsplit('.', 1)[-1]}"


def origin_netns_name(name: str) -> str:
    """The namespace of a lab's origin side (lvslab.origin), when its profile has one."""
    return f"lvslab-{name}-origin"
