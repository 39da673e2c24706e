"""The lab itself, as the kernel tests and scenarios rely on it."""

import base64
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from lvslab import LabError


def test_guest_has_the_inventory_addresses(lab):
    addrs = lab.ssh("ip -o -4 addr show").stdout
    assert "192.0.2.11/24" in addrs and "198.51.100.11/24" in addrs


def test_client_reaches_front_through_the_router_not_back(lab):
    ns = lab.state["client_netns"]
    front = subprocess.run(["ip", "netns", "exec", ns, "nc", "-z", "-w", "3", "192.0.2.11", "22"])
    back = subprocess.run(["ip", "netns", "exec", ns, "nc", "-z", "-w", "3", "198.51.100.11", "22"])
    assert front.returncode == 0
    assert back.returncode != 0


def test_clients_of_their_own_keep_reaching_the_front_as_more_are_added(lab):
    # each client namespace holds one address; adding one must not disturb the others
    # (the client bridge keeps one MAC, the router's in every client's ARP cache)
    def reach(address):
        return lab.client("nc", "-z", "-w", "3", "192.0.2.11", "22", address=address)

    addresses = [f"203.0.113.{n}" for n in (240, 241, 242)]
    for address in addresses:
        assert reach(address).returncode == 0, address
    for address in addresses:
        assert reach(address).returncode == 0, address
    seen = lab.client(
        "python3", "-c",
        "import socket; s = socket.create_connection(('192.0.2.11', 22)); "
        "print(s.getsockname()[0])",
        address=addresses[0],
    ).stdout.strip()  # fmt: skip
    assert seen == addresses[0]
    # the shared client namespace's addresses are not for clients of their own
    with pytest.raises(LabError, match=r"203\.0\.113\.128/25"):
        lab.client("true", address="203.0.113.20")


def test_module_utils_import_in_the_guest(lab):
    out = lab.python(
        "import ansible_collections.lvs.cluster.plugins.module_utils as m; print(m.__name__)"
    ).stdout
    assert "module_utils" in out


def test_stop_and_start_keep_the_guest_disk(lab):
    lab.ssh("echo kept > /root/marker && sync")
    subprocess.run(["lvslab", "stop", "--name", lab.name, "dir1"], check=True)
    assert (
        json.loads(_lvslab("status", "--json", "--name", lab.name))["guests"]["dir1"]["state"]
        == "stopped"
    )
    subprocess.run(["lvslab", "start", "--name", lab.name, "dir1"], check=True)
    assert lab.ssh("cat /root/marker").stdout.strip() == "kept"


def test_crash_is_a_power_cut_and_start_recovers(lab):
    subprocess.run(["lvslab", "crash", "--name", lab.name, "dir1"], check=True)
    status = json.loads(_lvslab("status", "--json", "--name", lab.name))
    assert status["guests"]["dir1"]["state"] == "crashed"
    assert lab.ssh("true", check=False, timeout=30).returncode != 0
    subprocess.run(["lvslab", "start", "--name", lab.name, "dir1"], check=True)
    assert lab.ssh("systemctl is-system-running --wait", check=False).stdout.strip() in (
        "running",
        "degraded",
    )
    assert lab.ssh("hostname").stdout.strip() == "dir1"


def test_bad_input_is_refused_and_changes_nothing(lab):
    touched = ("bad", "nosuchlab", lab.name)
    before = _lab_traces(touched)
    for args, message in (
        (["up", "no-such-profile", "--name", "bad"], "unknown topology profile"),
        (["ssh", "--name", lab.name, "nosuchguest", "--", "true"], "no guest 'nosuchguest'"),
        (["crash", "--name", "nosuchlab", "dir1"], "is not up"),
    ):
        proc = subprocess.run(["lvslab", *args], capture_output=True, text=True)
        assert proc.returncode == 2, args
        assert message in proc.stderr, proc.stderr
    assert _lab_traces(touched) == before


def test_killed_up_is_cleared_by_the_next_up_and_down_leaves_nothing(lab):
    name = "lifecycle"
    subprocess.run(["lvslab", "down", "--name", name], capture_output=True)
    # kill `lvslab up` while its guest boots: namespace, tap and process are left over
    log = open(f"/tmp/lvslab-{name}-up.log", "w")  # noqa: SIM115 - read back on failure
    proc = subprocess.Popen(
        ["lvslab", "up", "smoke", "--name", name], stdout=log, stderr=log, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while (
        time.monotonic() < deadline
        and not Path(f"/var/lib/lvslab/labs/{name}/dir1.console").exists()
    ):
        time.sleep(0.1)
    time.sleep(2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    log.close()
    assert f"lvslab-{name}" in _namespaces(), Path(log.name).read_text()
    # two labs with the same address ranges coexist
    up = subprocess.run(
        ["lvslab", "up", "smoke", "--name", name], capture_output=True, text=True, check=True
    )
    assert "clearing the remains" in up.stdout
    assert {f"lvslab-{name}", f"lvslab-{lab.name}"} <= _namespaces()
    # same addresses, separate guests: ssh and Ansible each reach their own lab's dir1
    other = json.loads(_lvslab("status", "--json", "--name", name))
    boot_ids = set()
    for state in (lab.state, other):
        via_ssh = subprocess.run(
            ["ssh", "-F", state["ssh_config"], "dir1", "cat /proc/sys/kernel/random/boot_id"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        via_ansible = subprocess.run(
            [
                "ansible",
                "dir1",
                "-i",
                "inventory/smoke",
                "-i",
                state["inventory"],
                "-m",
                "ansible.builtin.slurp",
                "-a",
                "src=/proc/sys/kernel/random/boot_id",
            ],
            capture_output=True,
            text=True,
            check=True,
            stdin=subprocess.DEVNULL,
            cwd=Path(__file__).parents[2],
        ).stdout
        assert base64.b64encode(f"{via_ssh}\n".encode()).decode() in via_ansible
        boot_ids.add(via_ssh)
    assert len(boot_ids) == 2
    again = subprocess.run(
        ["lvslab", "up", "smoke", "--name", name], capture_output=True, text=True, check=True
    )
    assert "already up" in again.stdout
    # every guest gone (as when the session that started the lab is killed): a new
    # `up` boots the lab afresh instead of calling it up
    subprocess.run(["lvslab", "crash", "--name", name, "dir1"], check=True)
    fresh = subprocess.run(
        ["lvslab", "up", "smoke", "--name", name], capture_output=True, text=True, check=True
    )
    assert "clearing the remains" in fresh.stdout and "ssh-ready" in fresh.stdout
    subprocess.run(["lvslab", "crash", "--name", name, "dir1"], check=True)
    subprocess.run(["lvslab", "down", "--name", name], check=True)
    assert not {f"lvslab-{name}", f"lvslab-{name}-client"} & _namespaces()
    assert not Path(f"/var/lib/lvslab/labs/{name}").exists()
    leftovers = subprocess.run(
        ["pgrep", "-f", f"uml_dir=/var/lib/lvslab/labs/{name}"], capture_output=True, text=True
    ).stdout
    assert leftovers == ""
    assert f"lvslab-{lab.name}" in _namespaces()  # the other lab is untouched


def _lvslab(*args: str) -> str:
    return subprocess.run(["lvslab", *args], check=True, capture_output=True, text=True).stdout


def _namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _lab_traces(names: tuple[str, ...]) -> tuple:
    """Namespaces and state directories of the named labs only: other labs (another
    pytest-xdist worker's) may come and go meanwhile."""
    labs = sorted(set(os.listdir("/var/lib/lvslab/labs")) & set(names))
    return (sorted(_namespaces() & {f"lvslab-{name}" for name in names}), labs)
