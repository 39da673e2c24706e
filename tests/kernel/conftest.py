"""Kernel tests run in a lab guest: a real Linux 6.1 kernel with IPVS.

The session fixture ``lab`` boots the ``smoke`` profile as lab ``kernel`` (unless a lab
of that name is already up, which it then reuses and leaves up) and offers:
  lab.ssh(cmd, guest="dir1", check=True)          -> CompletedProcess (text)
  lab.module(name, args, guest="dir1", check_mode=False, diff=False) -> result dict
  lab.python(code, guest="dir1", check=True)      -> CompletedProcess; the collection's
      module_utils import as ansible_collections.lvs.cluster.plugins.module_utils
"""

from __future__ import annotations

import functools
import io
import json
import operator
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_NAME = os.environ.get("LVS_KERNEL_LAB", "kernel")
GUEST_ROOT = "/var/tmp/lvs-kernel-tests"


class Lab:
    def __init__(self, name: str):
        self.name = name
        status = subprocess.run(
            ["lvslab", "status", "--json", "--name", name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        self.state = json.loads(status)
        self.inventory = [str(REPO / "inventory" / self.state["profile"]), self.state["inventory"]]
        self._shipped: set[str] = set()

    def ssh(
        self,
        cmd: str,
        guest: str = "dir1",
        check: bool = True,
        timeout: float = 300,
        input: str | bytes | None = None,
    ) -> subprocess.CompletedProcess:
        text = not isinstance(input, bytes)
        proc = subprocess.run(
            ["ssh", "-F", self.state["ssh_config"], guest, cmd],
            input=input,
            capture_output=True,
            text=text,
            timeout=timeout,
        )
        if check and proc.returncode:
            raise AssertionError(
                f"{guest}$ {cmd}\nexit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def _ship(self, guest: str) -> None:
        """Copy plugins/module_utils into the guest under its collection path."""
        if guest in self._shipped:
            return
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            tar.add(
                REPO / "plugins" / "module_utils",
                arcname="ansible_collections/lvs/cluster/plugins/module_utils",
                filter=lambda ti: None if "__pycache__" in ti.name else ti,
            )
        self.ssh(
            f"rm -rf {GUEST_ROOT} && mkdir -p {GUEST_ROOT} && tar -C {GUEST_ROOT} -xf -",
            guest=guest,
            input=buf.getvalue(),
        )
        self._shipped.add(guest)

    def python(
        self, code: str, guest: str = "dir1", check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess:
        self._ship(guest)
        return self.ssh(
            f"PYTHONPATH={GUEST_ROOT} python3 -",
            guest=guest,
            check=check,
            input=code,
            timeout=timeout,
        )

    def module(
        self,
        name: str,
        args: dict,
        guest: str = "dir1",
        check_mode: bool = False,
        diff: bool = False,
    ) -> dict:
        cmd = [
            "ansible",
            guest,
            *functools.reduce(operator.iadd, (["-i", i] for i in self.inventory), []),
            "-m",
            f"lvs.cluster.{name}",
            "-a",
            json.dumps(args),
        ]
        cmd += ["--check"] if check_mode else []
        cmd += ["--diff"] if diff else []
        env = {
            **os.environ,
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        }
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, cwd=REPO, stdin=subprocess.DEVNULL
        )
        try:
            report = json.loads(proc.stdout)
            return report["plays"][0]["tasks"][0]["hosts"][guest]
        except (ValueError, KeyError, IndexError) as exc:
            raise AssertionError(f"no module result: {proc.stdout}\n{proc.stderr}") from exc


@pytest.fixture(scope="session")
def lab():
    # `up` reuses a running lab of that name and clears the remains of a dead one
    up = subprocess.run(
        ["lvslab", "up", "smoke", "--name", LAB_NAME], check=True, capture_output=True, text=True
    )
    started = "already up" not in up.stdout
    try:
        yield Lab(LAB_NAME)
    finally:
        if started and not os.environ.get("LVS_KEEP_LAB"):
            subprocess.run(["lvslab", "down", "--name", LAB_NAME], check=False)
