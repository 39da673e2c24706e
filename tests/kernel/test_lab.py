"""The lab itself, as the kernel tests and scenarios rely on it."""

import subprocess


def test_guest_has_the_inventory_addresses(lab):
    addrs = lab.ssh("ip -o -4 addr show").stdout
    assert "192.0.2.11/24" in addrs and "198.51.100.11/24" in addrs


def test_client_reaches_front_through_the_router_not_back(lab):
    ns = lab.state["client_netns"]
    front = subprocess.run(["ip", "netns", "exec", ns, "nc", "-z", "-w", "3", "192.0.2.11", "22"])
    back = subprocess.run(["ip", "netns", "exec", ns, "nc", "-z", "-w", "3", "198.51.100.11", "22"])
    assert front.returncode == 0
    assert back.returncode != 0


def test_module_utils_import_in_the_guest(lab):
    out = lab.python(
        "import ansible_collections.lvs.cluster.plugins.module_utils as m; print(m.__name__)"
    ).stdout
    assert "module_utils" in out
