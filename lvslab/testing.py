"""Drive a running lab from tests and benchmarks: guests, Ansible, the client side.

lab = Lab("mol-web")
lab.ssh("ipvsadm -Ln", guest="dir1")            -> CompletedProcess (text)
lab.module("ipvs_info", {}, guest="dir1")        -> the module's result dict
lab.python(code, guest="dir1")                   -> runs python3 in the guest with the
    collection's module_utils importable (ansible_collections.lvs.cluster...)
lab.probe("split", "http://192.0.2.100/", "--count", "30") -> probe JSON (client side)
lab.lvslab("crash", "dir1")                      -> runs an lvslab command on this lab
"""

from __future__ import annotations

import functools
import io
import json
import operator
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from . import lab as lablib
from .paths import repo_root

REPO = repo_root()
GUEST_ROOT = "/var/tmp/lvs-kernel-tests"
LVSLAB = [sys.executable, "-m", "lvslab.cli"]


def import_collection() -> None:
    """Make the checkout importable as ansible_collections.lvs.cluster on the controller
    (`make` links it under collections/), for tests that read the collection's code."""
    root = str(REPO / "collections")
    if root not in sys.path:
        sys.path.insert(0, root)


def module_utils_tar(*extra: Path) -> bytes:
    """A tar of plugins/module_utils under its collection path (so it imports as
    ansible_collections.lvs.cluster.plugins.module_utils), plus extra files at its top."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(
            REPO / "plugins" / "module_utils",
            arcname="ansible_collections/lvs/cluster/plugins/module_utils",
            filter=lambda ti: None if "__pycache__" in ti.name else ti,
        )
        for path in extra:
            tar.add(path, arcname=path.name)
    return buf.getvalue()


def ansible_env(**extra: str) -> dict[str, str]:
    """The environment for ansible-playbook run from a test or benchmark: the checkout's
    configuration and collection (unless the caller's environment names others) and
    this interpreter's virtualenv first on PATH."""
    env = dict(os.environ)
    env.setdefault("ANSIBLE_CONFIG", str(REPO / "ansible.cfg"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO / "collections"))
    for key, value in extra.items():
        env.setdefault(key, value)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def holds(lab: Lab, guest: str, address: str) -> bool:
    """Does the guest hold the address (a VIP) on one of its interfaces?"""
    out = lab.ssh("ip -o -4 addr show", guest=guest, check=False, timeout=20)
    return out.returncode == 0 and f" {address}/" in out.stdout


class Lab:
    def __init__(self, name: str):
        self.name = name
        status = subprocess.run(
            [*LVSLAB, "status", "--json", "--name", name],
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
        self.ssh(
            f"rm -rf {GUEST_ROOT} && mkdir -p {GUEST_ROOT} && tar -C {GUEST_ROOT} -xf -",
            guest=guest,
            input=module_utils_tar(),
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
            # the JSON report comes first; the task timer's table may follow it
            report = json.JSONDecoder().raw_decode(proc.stdout)[0]
            return report["plays"][0]["tasks"][0]["hosts"][guest]
        except (ValueError, KeyError, IndexError) as exc:
            raise AssertionError(f"no module result: {proc.stdout}\n{proc.stderr}") from exc

    def lvslab(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*LVSLAB, *args[:1], "--name", self.name, *args[1:]],
            check=check,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    def client(
        self, *cmd: str, timeout: float = 600, address: str | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess:
        """Run a command on the client side; with an address, in a client namespace that
        holds that one address (lvslab client --address); ``input`` is its stdin."""
        space = self.state["client_netns"]
        if address:
            space = lablib.client_namespace(self.name, address)
        stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
        return subprocess.run(
            ["ip", "netns", "exec", space, *cmd],
            capture_output=True,
            text=True,
            timeout=timeout,
            **stdin,
        )

    def probe(self, kind: str, url: str, *args: str, timeout: float = 600) -> dict:
        """Run lvslab.probe on the client side and return its JSON."""
        proc = self.client(sys.executable, "-m", "lvslab.probe", kind, url, *args, timeout=timeout)
        if proc.returncode:
            raise AssertionError(f"probe {kind} {url} failed: {proc.stderr}")
        return json.loads(proc.stdout)

    def probe_background(self, kind: str, url: str, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                self.state["client_netns"],
                sys.executable,
                "-m",
                "lvslab.probe",
                kind,
                url,
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )


def up(profile: str, name: str) -> tuple[Lab, bool]:
    """Bring a lab up (reusing a running one); returns it and whether it was started."""
    proc = subprocess.run(
        [*LVSLAB, "up", profile, "--name", name],
        check=True,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    return Lab(name), "already up" not in proc.stdout


def log(msg: str) -> None:
    """A benchmark's progress line, on stderr (stdout is its table)."""
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def converge(lab: Lab, logfile: Path) -> float:
    """Run site.yml on the lab, its output to logfile; seconds it took (exits on failure)."""
    cmd = [str(Path(sys.executable).with_name("ansible-playbook"))]
    for inv in lab.inventory:
        cmd += ["-i", inv]
    began = time.monotonic()
    with logfile.open("w") as out:
        proc = subprocess.run(
            [*cmd, "site.yml"], cwd=REPO, env=ansible_env(), stdout=out, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
    if proc.returncode:
        raise SystemExit(f"converge failed, see {logfile}")
    return time.monotonic() - began


def wait_for(what: str, check, timeout: float = 60, interval: float = 0.5):
    """Poll check() until it returns something truthy; fail with `what` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
