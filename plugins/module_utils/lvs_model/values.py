# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small value tests and conversions that the checks and the parser share."""

from __future__ import annotations

import ipaddress
import re


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_num(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def port_ok(value) -> bool:
    return is_int(value) and 1 <= value <= 65535


def port_range(value) -> tuple[int, int] | None:
    """A port (80) or a range ('6970:6999') as (first, last); None when invalid."""
    if port_ok(value):
        return (value, value)
    if isinstance(value, str) and re.fullmatch(r"\d{1,5}:\d{1,5}", value):
        first, last = (int(p) for p in value.split(":"))
        if 1 <= first < last <= 65535:
            return (first, last)
    return None


def port_text(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}:{last}"


def netmask_prefix(value, v6: bool) -> int | None:
    """A netmask as a prefix length, or None when invalid (contiguous masks only)."""
    if is_int(value):
        return value if 0 <= value <= (128 if v6 else 32) else None
    if v6 or not isinstance(value, str):
        return None
    try:
        return ipaddress.ip_network(f"0.0.0.0/{value}").prefixlen
    except ValueError:
        return None


def sync_threshold(value) -> tuple[int, int] | None:
    """net.ipv4.vs.sync_threshold as (threshold, period); None when invalid.

    Period 0 is the kernel's time-driven mode: with sync_refresh_period set, a
    connection is synced on its first packets and again after every refresh period of
    traffic, whatever its packet count (with a period, only when the count modulo the
    period equals the threshold)."""
    parts = value.split() if isinstance(value, str) else value
    if not isinstance(parts, (list, tuple)) or len(parts) != 2:
        return None
    try:
        first, second = (int(p) for p in parts)
    except (TypeError, ValueError):
        return None
    return (first, second) if first >= 0 and (first < second or second == 0) else None
