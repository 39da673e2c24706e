"""The guest's own kernel (not the host's) runs LVS: IPVS, every scheduler, ipip, dummy."""

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import SCHEDULERS


def test_runs_in_the_lab_guest_kernel(host):
    # the checks below must run inside a user-mode-linux guest, not on the controller
    assert "User Mode Linux" in host.file("/proc/cpuinfo").content_string
    assert host.check_output("hostname") == "dir1"
    assert host.check_output("uname -r").startswith("6.1.")


def test_converge_loaded_ip_vs_and_schedulers(host):
    loaded = {line.split()[0] for line in host.file("/proc/modules").content_string.splitlines()}
    assert "ip_vs" in loaded
    for sched in SCHEDULERS:
        assert f"ip_vs_{sched}" in loaded, sched


def test_modules_load_at_boot(host):
    conf = host.file("/etc/modules-load.d/lvs-director.conf")
    assert conf.exists
    assert "ip_vs_mh" in conf.content_string.split()


@pytest.mark.parametrize("module", ["ip_vs", "ipip", "dummy"])
def test_module_loads(host, module):
    host.run_test(f"modprobe {module}")
    assert host.run(f"grep -q '^{module} ' /proc/modules").rc == 0


@pytest.mark.parametrize("sched", SCHEDULERS)
def test_every_scheduler_serves_a_service(host, sched):
    # the scheduler is really usable: the kernel accepts a service with it
    vip = "192.0.2.200:80"
    # ipvsadm exits 255 on "No such service", which the ssh backend reads as a lost link
    host.run(f"ipvsadm -D -t {vip} || true")
    try:
        host.run_test(f"ipvsadm -A -t {vip} -s {sched}")
        out = host.check_output("ipvsadm -Ln")
        assert f"TCP  {vip} {sched}" in out
    finally:
        host.run(f"ipvsadm -D -t {vip} || true")


def test_ipvsadm_lists_the_table(host):
    out = host.check_output("ipvsadm -Ln")
    assert out.startswith("IP Virtual Server version")


def test_ipip_and_dummy_devices(host):
    host.run_test("ip link add lvs-smoke0 type dummy")
    try:
        assert host.interface("lvs-smoke0").exists
        assert host.interface("tunl0").exists  # created by the ipip module
    finally:
        host.run("ip link del lvs-smoke0")
