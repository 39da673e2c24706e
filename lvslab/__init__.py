"""lvslab: a lab of user-mode-linux guests in private network namespaces.

The guests run a real Linux kernel with IPVS, ipip and dummy, so LVS clusters can be
provisioned and tested on machines whose own kernel has none of them. The topology of
a lab comes from the project's Ansible inventory (``inventory/<profile>/``).
"""

__all__ = ["LabError"]


class LabError(Exception):
    """A problem the user can act on; the CLI prints it without a traceback."""
