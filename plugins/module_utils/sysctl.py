# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kernel settings in one batch, live and persisted: read, compare, write what differs.

Stdlib only, no Ansible imports. Used by the lvs.cluster.sysctl module (directors) and
by the real-server planner (module_utils/realserver.py), so both read the live values
on every run and write only those that differ: a run interrupted after its files were
written is repaired by the next one, which finds the live values still different.

Values are compared as sysctl(8) prints them with whitespace collapsed, so
``[3, 50]``, ``"3 50"`` and the kernel's ``"3\\t50"`` are the same value.
"""

from __future__ import annotations

import os

PROC_SYS = "/proc/sys"


def key_path(key: str, root: str = PROC_SYS) -> str:
    """/proc/sys path of a dotted key (``net.ipv4.ip_forward``)."""
    return os.path.join(root, *key.split("."))


def normalize(value) -> str:
    """A value as the kernel prints it, whitespace collapsed."""
    if isinstance(value, bool):
        value = int(value)
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    return " ".join(str(value).split())


def read(keys, root: str = PROC_SYS) -> dict[str, str | None]:
    """Live values of ``keys``; None for a key the kernel does not have (yet)."""
    current: dict[str, str | None] = {}
    for key in keys:
        try:
            with open(key_path(key, root)) as handle:
                current[key] = normalize(handle.read())
        except OSError:
            # a device's keys appear with the device, a module's once it is loaded
            current[key] = None
    return current


def differing(wanted: dict, current: dict) -> dict[str, tuple[str | None, str]]:
    """key -> (live value, wanted value) for the keys whose live value differs."""
    changes = {}
    for key, value in wanted.items():
        value = normalize(value)
        if current.get(key) != value:
            changes[key] = (current.get(key), value)
    return changes


def write(key: str, value, root: str = PROC_SYS) -> None:
    """Set one key live; OSError names the key (missing key, value refused)."""
    try:
        # no O_CREAT: a key the kernel does not have is an error, as with sysctl -w
        fd = os.open(key_path(key, root), os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, (normalize(value) + "\n").encode())
        finally:
            os.close(fd)
    except OSError as exc:
        raise OSError(exc.errno, f"sysctl {key} = {normalize(value)}: {exc.strerror}") from exc


def render(values: dict, header: str = "") -> str:
    """A sysctl.d file of ``values`` (sorted by key), after ``header`` lines."""
    return header + "".join(f"{key} = {normalize(values[key])}\n" for key in sorted(values))


# ------------------------------------------------------------------- files on the host


def read_file(path: str) -> tuple[str | None, int | None]:
    """(text, permission bits) of a file, (None, None) when it is missing or unreadable."""
    try:
        with open(path) as handle:
            text = handle.read()
        return text, os.stat(path).st_mode & 0o7777
    except (OSError, UnicodeDecodeError):
        return None, None


def write_file(path: str, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` atomically and durably: a temporary file beside it, fsync'd, then
    renamed, then the directory fsync'd (a power cut leaves the old or the new file)."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Batch:
    """The whole sysctl change of one run: live values that differ, the file if given.

    batch = Batch(wanted, path="/etc/sysctl.d/60-x.conf", header="# ...\\n")
    batch.read()          # live values and the file (root/path are for tests)
    batch.changes         # {key: (live, wanted)}; batch.file_changed
    batch.apply()         # writes only the differences, live first, then the file
    """

    def __init__(self, wanted: dict, path: str | None = None, header: str = "", root=PROC_SYS):
        self.wanted = {key: normalize(value) for key, value in wanted.items()}
        self.path = path
        self.root = root
        self.text = render(self.wanted, header) if path else None
        self.live: dict[str, str | None] = {}
        self.file_before: str | None = None
        self.changes: dict[str, tuple[str | None, str]] = {}
        self.file_changed = False

    def read(self) -> Batch:
        self.live = read(self.wanted, self.root)
        self.changes = differing(self.wanted, self.live)
        if self.path:
            self.file_before, mode = read_file(self.path)
            self.file_changed = self.file_before != self.text or mode != 0o644
        return self

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.file_changed

    def apply(self) -> list[str]:
        """Write the differences; returns what was done, one line each."""
        done = []
        for key, (_live, value) in self.changes.items():
            write(key, value, self.root)
            done.append(f"sysctl {key} = {value}")
        if self.file_changed:
            write_file(self.path, self.text)
            done.append(f"write {self.path}")
        return done

    def diff(self) -> dict:
        """before/after of the live values and the file, as Ansible's diff shows them."""
        live_after = {**self.live, **self.wanted}
        before = "".join(f"{k} = {self.live[k]}\n" for k in sorted(self.live) if self.live[k])
        after = "".join(f"{k} = {live_after[k]}\n" for k in sorted(live_after))
        diffs = [
            {"before_header": "live", "after_header": "live", "before": before, "after": after}
        ]
        if self.path:
            diffs.append(
                {
                    "before_header": self.path,
                    "after_header": self.path,
                    "before": self.file_before or "",
                    "after": self.text,
                }
            )
        return diffs
