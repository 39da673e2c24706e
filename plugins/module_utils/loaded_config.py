# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Has a service loaded the configuration files on disk? Record it when it has.

A daemon reads its files when it starts or reloads, so a run that writes a file and is
interrupted before the reload leaves the file new and the daemon old; the next run
finds the file unchanged and, with handlers, would never reload. Here the digest of
the files is recorded *after* the daemon loaded them, and every run compares the files
with that record: a difference (or no record) means the daemon must load them, however
the earlier run ended.

Records live in :data:`STATE_DIR` (persistent: a reboot starts the daemon from the same
files, so the record stays true). Pure standard library.
"""

from __future__ import annotations

import hashlib
import os
import re

STATE_DIR = "/var/lib/lvs-cluster/loaded"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def digest(paths: list[str]) -> str:
    """One digest over the files' names and contents, in the given order.

    A missing file counts as its own state (so deleting one is a change too).
    """
    total = hashlib.sha256()
    for path in paths:
        total.update(path.encode() + b"\0")
        try:
            with open(path, "rb") as handle:
                total.update(b"present\0" + hashlib.sha256(handle.read()).digest())
        except FileNotFoundError:
            total.update(b"absent\0")
    return total.hexdigest()


def record_path(name: str, state_dir: str = STATE_DIR) -> str:
    if not NAME_RE.match(name):
        raise ValueError(f"name {name!r}: letters, digits, '.', '_' and '-' only")
    return os.path.join(state_dir, f"{name}.sha256")


def recorded(name: str, state_dir: str = STATE_DIR) -> str | None:
    try:
        with open(record_path(name, state_dir), encoding="ascii") as handle:
            return handle.read().strip() or None
    except FileNotFoundError:
        return None


def fsync_paths(paths: list[str]) -> None:
    """Flush the files and their directories: the daemon must not load a file that a
    power cut could still empty."""
    directories = set()
    for path in paths:
        if os.path.exists(path):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            directories.add(os.path.dirname(path) or ".")
    for directory in directories:
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def record(name: str, value: str, state_dir: str = STATE_DIR) -> None:
    """Write the record atomically (temporary file, fsync, rename, fsync of the folder)."""
    os.makedirs(state_dir, mode=0o755, exist_ok=True)
    target = record_path(name, state_dir)
    temporary = f"{target}.tmp"
    with open(temporary, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    fd = os.open(state_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
