# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes every IPVS module shares."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
attributes:
  idempotent:
    support: full
    description: A second run with the same input reports no change.
  platform:
    platforms: posix
    support: full
    description: Linux with IPVS (C(ip_vs)).
"""
