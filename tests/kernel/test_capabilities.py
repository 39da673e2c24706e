"""The capability check on a real guest: what the host lacks is named before anything
changes, and site.yml stops there."""

from __future__ import annotations

import os
import shutil
import subprocess

import yaml

from lvslab.testing import REPO


def test_module_names_each_missing_module_and_interface(lab):
    result = lab.module(
        "host_capabilities",
        {
            "modules": {"ip_vs": "IPVS", "ip_vs_mh": "mh", "lvs_nosuch": "a test"},
            "interfaces": ["eth0", "eth1", "eth7"],
        },
    )
    assert result.get("failed"), result
    assert result["problems"] == [
        f"kernel module lvs_nosuch (a test) is neither loaded nor available in {result['release']}",
        "interface eth7 (lvs_interfaces) does not exist (found: eth0, eth1)",
    ], result


def test_module_passes_on_what_the_guest_has(lab):
    result = lab.module(
        "host_capabilities",
        {"modules": {"ip_vs": "IPVS", "dummy": "DR", "ipip": "TUN", "nfsd": "NFS", "fuse": "x"}},
        check_mode=True,
    )
    assert not result.get("failed") and result["problems"] == [] and not result["changed"]


def test_site_stops_at_the_capability_check_naming_the_host(lab, tmp_path):
    inventory = tmp_path / "smoke"
    shutil.copytree(REPO / "inventory" / "smoke", inventory)
    hosts = yaml.safe_load((inventory / "hosts.yml").read_text())
    dir1 = hosts["all"]["children"]["directors"]["hosts"]["dir1"]
    # a third interface the guest does not have (the address is sound: preflight passes)
    dir1["lvs_interfaces"].append({"name": "eth7", "segment": "front", "address": "192.0.2.99/24"})
    (inventory / "hosts.yml").write_text(yaml.safe_dump(hosts))
    env = {**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"), "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inventory), "-i", lab.state["inventory"], "site.yml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode != 0, out
    assert "PLAY [Check what every host can do]" in out
    assert "fatal: [dir1]" in out and "interface eth7 (lvs_interfaces) does not exist" in out
    assert "PLAY [Configure the LVS directors]" not in out, "the run went past the check"


def test_module_finds_the_guest_mark_backend(lab):
    # the guest kernel has no nf_tables inet family: iptables-legacy marks its packets
    result = lab.module("host_capabilities", {"marks": True}, check_mode=True)
    assert not result.get("failed"), result
    assert result["mark_backend"] == "iptables-legacy" and result["problems"] == []
