"""Bring labs up and down, and act on their guests.

A lab's run folder (``/var/lib/lvslab/labs/<name>``) holds its state (``lab.json``),
each guest's copy-on-write disk and console log, and the connection settings that
Ansible and ssh use (``ssh_config``, ``inventory.yml``, ``known_hosts``). Guests are
user-mode-linux processes started inside the lab's namespace, each the leader of its
own process group, which is how they are stopped: never by process name.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from . import LabError, image, net, topology, xstate
from .paths import LABS_DIR, client_netns_name, lab_dir, netns_name, origin_netns_name
from .topology import Guest, Topology

SSH_TIMEOUT = 240  # seconds for a guest to answer ssh (2 cores, many guests)
HOST_TOOLS = ("linux.uml", "uml_mconsole", "nc", "ip", "ssh")


# ---------------------------------------------------------------- state and names


def _state_path(name: str) -> Path:
    return lab_dir(name) / "lab.json"


def _load(name: str) -> dict:
    try:
        return json.loads(_state_path(name).read_text())
    except FileNotFoundError:
        raise LabError(f"lab {name!r} is not up") from None


def _save(name: str, state: dict) -> None:
    path = _state_path(name)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    os.replace(tmp, path)


def labs() -> list[str]:
    names = {p.name for p in LABS_DIR.iterdir()} if LABS_DIR.is_dir() else set()
    # a lab's own namespace; not its client, single-client or origin namespaces
    names |= {
        ns[len("lvslab-") :]
        for ns in net.namespaces()
        if ns.startswith("lvslab-") and not re.search(r"-client(-[0-9]+)?$|-origin$", ns)
    }
    return sorted(names)


def resolve_name(name: str | None) -> str:
    if name:
        return name
    name = os.environ.get("LVSLAB_NAME")
    if name:
        return name
    up = labs()
    if len(up) == 1:
        return up[0]
    if not up:
        raise LabError("no lab is up (start one with `lvslab up PROFILE`)")
    raise LabError(f"several labs are up ({', '.join(up)}): choose one with --name")


def _guest(state: dict, guest: str) -> dict:
    try:
        return state["guests"][guest]
    except KeyError:
        known = ", ".join(state["guests"])
        raise LabError(f"no guest {guest!r} in lab {state['name']!r} (guests: {known})") from None


def _alive(pgid: int | None) -> bool:
    if not pgid:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie leader of our own is not a running guest
    try:
        stat = Path(f"/proc/{pgid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return True  # leader gone, other members still there


# ---------------------------------------------------------------- up / down


def up(profile: str, name: str) -> float | None:
    """Boot the lab; returns seconds to ssh-ready, or None if it was already up."""
    return up_topology(topology.load(profile), name)  # validates before touching anything


def up_topology(topo: Topology, name: str) -> float | None:
    profile = topo.profile
    missing = [t for t in HOST_TOOLS if shutil.which(t) is None]
    if missing:
        raise LabError(f"missing host tools: {', '.join(missing)} (run `make deps`)")
    if _state_path(name).exists() or netns_name(name) in net.namespaces():
        try:
            state = _load(name)
        except (LabError, json.JSONDecodeError):
            state = None
        # Remains cleared below: an interrupted `up` (guests still "booting") or a lab
        # whose guests are all gone (killed with the session that started it).
        guests = state["guests"].values() if state else []
        interrupted = any(g["state"] == "booting" for g in guests)
        if state and not interrupted and any(_alive(g["pgid"]) for g in guests):
            if state["profile"] != profile:
                raise LabError(
                    f"lab {name!r} is up with profile {state['profile']!r}; "
                    f"take it down first or choose another --name"
                )
            down_guests = [g for g, v in state["guests"].items() if not _alive(v["pgid"])]
            note = f" ({', '.join(down_guests)} not running: lvslab start)" if down_guests else ""
            print(f"lab {name!r} ({profile}) is already up; nothing changed{note}")
            return None
        print(f"lab {name!r}: clearing the remains of an earlier run")
        down(name, quiet=True)
    img = image.build()
    start = time.monotonic()
    run_dir = lab_dir(name)
    run_dir.mkdir(parents=True)
    state = {
        "name": name,
        "profile": profile,
        "image": str(img),
        "run_dir": str(run_dir),
        "netns": netns_name(name),
        "client_netns": client_netns_name(name),
        "client_addresses": net.CLIENT_ADDRESSES,
        "topology": topo.to_dict(),
        "origin_netns": origin_netns_name(name) if topo.origin else None,
        "origin_log": str(run_dir / "origin.log") if topo.origin else None,
        "guests": {
            g.name: {"pgid": None, "state": "booting", "management": g.management}
            for g in topo.guests
        },
    }
    _save(name, state)
    try:
        net.create(state["netns"], state["client_netns"], topo, state["origin_netns"])
        if topo.origin:
            _start_origin(state)
        _write_connection(state, img)
        for guest in topo.guests:
            for n, size in enumerate(guest.disks, start=1):
                subprocess.run(
                    ["truncate", "-s", size, str(run_dir / f"{guest.name}.disk{n}")], check=True
                )
            state["guests"][guest.name]["pgid"] = _boot(state, guest)
            _save(name, state)
        _wait_ssh(state, [g.name for g in topo.guests])
    except BaseException:
        for guest in topo.guests:
            _console_tail(state, guest.name)
        down(name, quiet=True)
        raise
    for g in state["guests"].values():
        g["state"] = "running"
    _save(name, state)
    took = time.monotonic() - start
    print(f"lab {name!r} ({profile}) is up: {len(topo.guests)} guests ssh-ready in {took:.1f} s")
    print(f"  ansible-playbook -i inventory/{profile} -i {run_dir}/inventory.yml site.yml")
    print(f"  lvslab ssh --name {name} {topo.guests[0].name}    lvslab down --name {name}")
    return took


def down(name: str, quiet: bool = False) -> None:
    ns, client_ns = netns_name(name), client_netns_name(name)
    present = net.namespaces()
    pgids: set[int] = set()
    with contextlib.suppress(LabError, json.JSONDecodeError, KeyError):
        pgids = {g["pgid"] for g in _load(name)["guests"].values() if g.get("pgid")}
    spaces = [ns, client_ns, *sorted(n for n in present if n.startswith(f"{client_ns}-"))]
    spaces.append(origin_netns_name(name))
    # every process in the lab's namespaces belongs to the lab (guests, nc proxies)
    victims = set(pgids)
    for space in spaces:
        if space in present:
            victims |= set(net.ns_pids(space))
    for pid in victims:
        for kill in (os.killpg, os.kill):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                kill(pid, signal.SIGKILL)
    # wait until the kernel has released them, zombies included: the process list
    # shows nothing of the lab when `down` returns
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _group_members(pgids | victims):
        _reap()
        time.sleep(0.05)
    net.destroy(*spaces)
    shutil.rmtree(lab_dir(name), ignore_errors=True)
    if not quiet:
        print(f"lab {name!r} is down")


def _start_origin(state: dict) -> None:
    """The origin's HTTP server (lvslab.origin) in the origin namespace; it goes with the
    namespace's other processes at `down`."""
    log = open(Path(state["run_dir"]) / "origin.console", "ab")  # noqa: SIM115 - child owns it
    cmd = ["ip", "netns", "exec", state["origin_netns"], sys.executable, "-m", "lvslab.origin"]
    subprocess.Popen(
        [*cmd, "--log", state["origin_log"]],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        cwd=str(Path(__file__).resolve().parent.parent),
    )
    log.close()
    address = _topology(state).origin.hosts()[0]
    deadline = time.monotonic() + 15
    while not _listening(state["origin_netns"], address, 80):
        if time.monotonic() > deadline:
            raise LabError("the origin server did not start (see origin.console)")
        time.sleep(0.1)


def _listening(space: str, address: str, port: int) -> bool:
    proc = subprocess.run(
        ["ip", "netns", "exec", space, "nc", "-z", "-w", "1", address, str(port)],
        capture_output=True,
    )
    return proc.returncode == 0


def _group_members(pgids: set[int]) -> list[int]:
    """Pids (zombies included) whose process group is one of pgids."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) in pgids:
                found.append(int(entry.name))
    return found


def _reap() -> None:
    """Collect exited children so no zombie guest is left behind."""
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


# ---------------------------------------------------------------- guests


def _topology(state: dict) -> Topology:
    return Topology.from_dict(state["topology"])


def _find(state: dict, name: str) -> Guest:
    _guest(state, name)
    return next(g for g in _topology(state).guests if g.name == name)


def _boot(state: dict, guest: Guest) -> int:
    run_dir = Path(state["run_dir"])
    base = Path(state["image"]) / "base.ext4"
    cmd = [
        "ip",
        "netns",
        "exec",
        state["netns"],
        "linux.uml",
        f"umid={guest.name}",
        f"uml_dir={run_dir}",
        f"mem={guest.memory}",
        f"ubd0={run_dir / guest.name}.cow,{base}",
    ]
    cmd += [f"ubd{n}={run_dir / guest.name}.disk{n}" for n in range(1, len(guest.disks) + 1)]
    for nic in guest.nics:
        cmd.append(
            f"vec{nic.index}:transport=tap,ifname={net.tap_name(guest, nic.index)},"
            f"mac={net.mac(guest, nic.index)},gro=1"
        )
    cmd += [
        "root=/dev/ubda",
        "rw",
        "quiet",
        "systemd.show_status=error",
        f"systemd.hostname={guest.name}",
        *[n.kernel_arg() for n in guest.nics],
        "con=null",
        "ssl=null",
        "con0=null,fd:1",
    ]
    console = open(run_dir / f"{guest.name}.console", "ab")  # noqa: SIM115 - child owns it
    # UML maps guest memory from files in TMPDIR: keep them in RAM; the XSAVE wrapper
    # makes no difference on hosts whose XSAVE area UML knows, and is needed on the rest
    env = {**os.environ, "TMPDIR": "/dev/shm", "LD_PRELOAD": str(xstate.library())}
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=console,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    console.close()
    return proc.pid  # start_new_session: the pid is the process group id


def _wait_ssh(state: dict, guests: list[str], timeout: float = SSH_TIMEOUT) -> None:
    """Wait until every guest's sshd greets us, then prove key login works."""
    addrs = {g: state["guests"][g]["management"] for g in guests}
    pending = set(guests)
    error: list[BaseException] = []

    def probe() -> None:
        # setns switches only this thread's network namespace
        try:
            with open(f"/run/netns/{state['netns']}") as fd:
                os.setns(fd.fileno(), os.CLONE_NEWNET)
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                for g in sorted(pending):
                    if not _alive(state["guests"][g]["pgid"]):
                        raise LabError(f"guest {g} died while booting")
                    if _banner(addrs[g]):
                        pending.discard(g)
                time.sleep(0.2)
        except BaseException as exc:
            error.append(exc)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join()
    if error:
        raise error[0]
    if pending:
        raise LabError(f"no ssh from {', '.join(sorted(pending))} within {timeout} s")
    procs = {
        g: subprocess.Popen(
            _ssh_cmd(state, g, ["true"]),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for g in guests
    }
    for g, proc in procs.items():
        _, err = proc.communicate(timeout=60)
        if proc.returncode:
            raise LabError(f"ssh login to {g} failed: {err.strip()}")


def _banner(address: str) -> bool:
    try:
        with socket.create_connection((address, 22), timeout=0.5) as sock:
            sock.settimeout(2)
            return sock.recv(16).startswith(b"SSH-")
    except OSError:
        return False


def _console_tail(state: dict, guest: str, lines: int = 15) -> None:
    path = Path(state["run_dir"]) / f"{guest}.console"
    if path.exists():
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        if tail:
            print(f"--- {guest} console (last {len(tail)} lines) ---")
            print("\n".join(tail))


def crash(name: str, guest: str) -> None:
    state = _load(name)
    g = _guest(state, guest)
    if _alive(g["pgid"]):
        os.killpg(g["pgid"], signal.SIGKILL)
        _wait_gone(g["pgid"], 10)
    g["state"] = "crashed"
    _save(name, state)
    print(f"{guest}: power cut")


def stop(name: str, guest: str) -> None:
    state = _load(name)
    g = _guest(state, guest)
    if _alive(g["pgid"]):
        sock = Path(state["run_dir"]) / guest / "mconsole"
        # run inside the namespace: the reply comes back on a namespace-scoped socket
        subprocess.run(
            ["ip", "netns", "exec", state["netns"], "uml_mconsole", str(sock), "halt"],
            capture_output=True,
            timeout=30,
        )
        if not _wait_gone(g["pgid"], 30):
            os.killpg(g["pgid"], signal.SIGKILL)
            _wait_gone(g["pgid"], 10)
    g["state"] = "stopped"
    _save(name, state)
    print(f"{guest}: halted")


def start(name: str, guest: str) -> None:
    state = _load(name)
    g = _guest(state, guest)
    if _alive(g["pgid"]):
        print(f"{guest} is already running")
        return
    began = time.monotonic()
    # a crashed guest leaves its mconsole folder behind; UML refuses to reuse the umid
    shutil.rmtree(Path(state["run_dir"]) / guest, ignore_errors=True)
    g["pgid"] = _boot(state, _find(state, guest))
    _save(name, state)
    _wait_ssh(state, [guest])
    g["state"] = "running"
    _save(name, state)
    print(f"{guest}: ssh-ready in {time.monotonic() - began:.1f} s")


def _wait_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap()
        if not _alive(pgid):
            return True
        time.sleep(0.05)
    return False


# ---------------------------------------------------------------- access


def _write_connection(state: dict, img: Path) -> None:
    run_dir = Path(state["run_dir"])
    key = img / "id_ed25519"
    (run_dir / "known_hosts").write_text("")
    hosts = "".join(f"Host {g}\n  HostName {v['management']}\n" for g, v in state["guests"].items())
    (run_dir / "ssh_config").write_text(
        f"{hosts}Host *\n  User root\n  IdentityFile {key}\n  IdentitiesOnly yes\n"
        f"  StrictHostKeyChecking no\n  UserKnownHostsFile {run_dir}/known_hosts\n"
        f"  ProxyCommand ip netns exec {state['netns']} nc %h %p\n"
        f"  ConnectTimeout 10\n  LogLevel ERROR\n  ServerAliveInterval 5\n"
        # labs share addresses: connection sharing must never cross from one to another
        f"  ControlMaster auto\n  ControlPath {run_dir}/cp-%C\n  ControlPersist 60s\n"
    )
    # only connection settings: the topology stays in inventory/<profile>
    (run_dir / "inventory.yml").write_text(
        "---\n# connection settings for this lab's guests (written by lvslab up)\n"
        "all:\n  vars:\n    ansible_user: root\n"
        f"    ansible_ssh_private_key_file: {key}\n"
        f"    ansible_ssh_common_args: -F {run_dir}/ssh_config\n"
        "    ansible_python_interpreter: /usr/bin/python3\n"
        f"    ansible_control_path_dir: {run_dir}/cp\n"
        # the login is root: an absolute path spares each file task a round trip
        # to expand ~ (about 0.15 s on a guest)
        "    ansible_remote_tmp: /root/.ansible/tmp\n"
    )


def _ssh_cmd(state: dict, guest: str, command: list[str], tty: bool = False) -> list[str]:
    return [
        "ssh",
        "-F",
        f"{state['run_dir']}/ssh_config",
        *(["-t"] if tty else []),
        guest,
        *command,
    ]


def ssh(name: str, guest: str, command: list[str]) -> int:
    state = _load(name)
    g = _guest(state, guest)
    if not _alive(g["pgid"]):
        raise LabError(f"guest {guest} is not running ({g['state']})")
    tty = not command and os.isatty(0)
    return subprocess.run(_ssh_cmd(state, guest, command, tty)).returncode


def client_namespace(name: str, address: str | None = None) -> str:
    """The client side's namespace; with an address, that of a client which sends
    everything from that one address (made on first use, gone with the lab)."""
    state = _load(name)
    if address is None:
        return state["client_netns"]
    single = client_netns_name(name, address)
    net.add_client(state["netns"], single, address)
    return single


def client(name: str, command: list[str], address: str | None = None) -> int:
    if not command:
        raise LabError("give a command to run on the client side, e.g. -- curl http://VIP/")
    space = client_namespace(name, address)
    return subprocess.run(["ip", "netns", "exec", space, *command]).returncode


def status(name: str) -> dict:
    state = _load(name)
    for g in state["guests"].values():
        if not _alive(g["pgid"]) and g["state"] in ("running", "booting"):
            g["state"] = "dead"
    state["inventory"] = f"{state['run_dir']}/inventory.yml"
    state["ssh_config"] = f"{state['run_dir']}/ssh_config"
    return state


def format_status(state: dict) -> str:
    lines = [
        f"lab {state['name']} (profile {state['profile']}), namespace {state['netns']}",
        f"  client side: {state['client_netns']} ({state['client_addresses'][0]} and "
        f"{len(state['client_addresses']) - 1} more)",
    ]
    topo = _topology(state)
    for guest in topo.guests:
        g = state["guests"][guest.name]
        addrs = ", ".join(f"{n.name} {n.address} ({n.segment})" for n in guest.nics)
        lines.append(f"  {guest.name:<8} {g['state']:<8} {addrs}")
    lines.append(f"  ansible: -i inventory/{state['profile']} -i {state['inventory']}")
    return "\n".join(lines)
