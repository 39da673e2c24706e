# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's code on the managed hosts, for what runs there without Ansible.

Stdlib only, no Ansible imports. A boot unit (lvs-realserver.service, later the monitor)
runs the same module_utils code the module ran, installed once per host:

  /usr/local/lib/lvs-cluster/ansible_collections/lvs/cluster/plugins/module_utils/
      __init__.py at every level, and the module_utils files a program needs, copied
      from the code that is running (inside a module: the AnsiballZ payload itself);
  /usr/local/sbin/<program>: a small entry script that puts /usr/local/lib/lvs-cluster
      first on sys.path and calls one function of one of those files.

``files()`` returns every such path with its wanted text and mode; the caller compares
them with the host and writes what differs (docs/architecture.md, "Code on the hosts").
"""

from __future__ import annotations

import importlib
import os

ROOT = "/usr/local/lib/lvs-cluster"
PACKAGE = "ansible_collections.lvs.cluster.plugins.module_utils"
SBIN = "/usr/local/sbin"
HEADER = "# Installed by the lvs.cluster collection: do not edit, the next run replaces it.\n"


def source(name: str) -> str:
    """The source text of module_utils/<name>.py, from wherever it is running: a file,
    or the zip archive that carries an Ansible module and its module_utils."""
    module = importlib.import_module(f"{PACKAGE}.{name}")
    text = module.__spec__.loader.get_source(module.__name__)
    if text is None:
        raise RuntimeError(f"no source for {module.__name__}")
    return text


def package_dir(root: str = ROOT) -> str:
    return os.path.join(root, *PACKAGE.split("."))


def entry_script(program: str, name: str, function: str = "main", root: str = ROOT) -> str:
    return (
        "#!/usr/bin/python3 -I\n"
        + HEADER
        + f'"""{program}: calls {function}() of {PACKAGE}.{name}, installed under {root}."""\n'
        + "import sys\n\n"
        + f"sys.path.insert(0, {root!r})\n"
        + f"from {PACKAGE}.{name} import {function}  # noqa: E402\n\n"
        + f"sys.exit({function}())\n"
    )


def files(names, programs=(), root: str = ROOT, sbin: str = SBIN) -> dict[str, tuple[str, int]]:
    """path -> (text, mode) of the package chain, the module_utils ``names`` and the entry
    scripts ``programs`` [(program, module_utils name, function)]."""
    wanted: dict[str, tuple[str, int]] = {}
    parts = PACKAGE.split(".")
    for depth in range(1, len(parts) + 1):
        wanted[os.path.join(root, *parts[:depth], "__init__.py")] = (HEADER, 0o644)
    for name in names:
        wanted[os.path.join(package_dir(root), f"{name}.py")] = (source(name), 0o644)
    for program, name, function in programs:
        wanted[os.path.join(sbin, program)] = (entry_script(program, name, function, root), 0o755)
    return wanted
