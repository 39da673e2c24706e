# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd unit names for paths, as ``systemd-escape --path --suffix=mount`` makes them.

A mount unit must be named after the path it mounts, so roles that write mount units
need the name on the controller, without a round trip to the host::

    dest: "/etc/systemd/system/{{ '/srv/www' | lvs.cluster.systemd_mount_unit }}"
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_SAFE = re.compile(r"[A-Za-z0-9:_.]")


def systemd_escape_path(path):
    """The escaped form of an absolute path (``/srv/my-www`` -> ``srv-my\\x2dwww``)."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise AnsibleFilterError(f"systemd_escape_path: {path!r} is not an absolute path")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise AnsibleFilterError(f"systemd_escape_path: {path!r} is not a normalised path")
    if not parts:
        return "-"
    out = []
    for char in "/".join(parts):
        if char == "/":
            out.append("-")
        elif _SAFE.match(char) and not (char == "." and not out):
            out.append(char)
        else:
            out.append("".join(f"\\x{b:02x}" for b in char.encode()))
    return "".join(out)


def systemd_mount_unit(path):
    """The mount unit's name for ``path`` (``/srv/www`` -> ``srv-www.mount``)."""
    return systemd_escape_path(path) + ".mount"


class FilterModule:
    def filters(self):
        return {
            "systemd_escape_path": systemd_escape_path,
            "systemd_mount_unit": systemd_mount_unit,
        }
