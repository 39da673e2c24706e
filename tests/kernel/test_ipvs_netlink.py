"""The netlink layer in the guest: batches, targeted reads and kernel errors."""

import json

import pytest

PRELUDE = """
import json
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs as I
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_args import parse_services
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import Service, render
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_plan import plan
"""


@pytest.fixture
def clean(lab):
    lab.ssh("ipvsadm -C")
    yield lab
    lab.ssh("ipvsadm -C")


def py(lab, code):
    return json.loads(lab.python(PRELUDE + code).stdout)


def test_large_batch_applies_exactly(clean):
    lab = clean
    out = py(
        lab,
        """
desired = parse_services([
    {"address": f"10.{i // 250}.{i % 250}.1", "port": 80, "scheduler": "wrr",
     "destinations": [{"address": f"172.16.{i % 250}.{d}", "weight": d} for d in range(1, 6)]}
    for i in range(300)])
with I.IPVS() as conn:
    todo = plan([], desired)
    result = conn.apply(todo.ops)
    print(json.dumps({"ops": len(todo.ops), "applied": len(result.applied), "ok": result.ok,
                      "render": render([s for s, _ in desired])}))
""",
    )
    assert out["ok"] and out["ops"] == out["applied"] == 300 * 6
    assert lab.ssh("ipvsadm -Sn").stdout == out["render"]


def test_declared_services_only_are_read(clean):
    lab = clean
    lines = []
    for i in range(200):
        lines.append(f"-A -t 10.1.{i // 250}.{i % 250}:80 -s rr")
        lines += [
            f"-a -t 10.1.{i // 250}.{i % 250}:80 -r 172.16.0.{d}:80 -g -w 1" for d in range(1, 4)
        ]
    lab.ssh("ipvsadm -R", input="\n".join(lines) + "\n")
    out = py(
        lab,
        """
calls = []
class Counting(I.GenlSocket):
    def dump(self, cmd, attrs=b""):
        calls.append(("dump", cmd))
        return super().dump(cmd, attrs)
    def batch(self, messages, stop_on_error=True):
        calls.append(("batch", len(messages)))
        return super().batch(messages, stop_on_error)
I.GenlSocket = Counting
wanted = [Service(protocol="tcp", address="10.1.0.7", port=80),
          Service(protocol="tcp", address="10.9.9.9", port=80)]
with I.IPVS() as conn:
    found = conn.get_services(wanted)
print(json.dumps({"calls": calls, "found": [None if v is None else
                  [d.address for d in v.sorted_destinations()] for v in found.values()]}))
""",
    )
    # one batched lookup of both, one destination dump for the one that exists, no full dump
    assert out["calls"] == [["batch", 2], ["dump", 8]]
    assert out["found"] == [["172.16.0.1", "172.16.0.2", "172.16.0.3"], None]


def test_kernel_errors_become_sentences(clean):
    lab = clean
    out = py(
        lab,
        """
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_model import Destination
from ansible_collections.lvs.cluster.plugins.module_utils.ipvs_plan import Op
web = Service(protocol="tcp", address="192.0.2.10", port=80, scheduler="xyz")
ghost = Service(protocol="tcp", address="192.0.2.99", port=80)
ok = Service(protocol="tcp", address="192.0.2.11", port=80, scheduler="rr")
with I.IPVS() as conn:
    r = conn.apply([Op("add_service", web)])
    r2 = conn.apply([Op("set_service", ghost), Op("add_service", ok),
                     Op("del_dest", ok, Destination("192.0.2.21", 80)),
                     Op("add_service", ok)])
print(json.dumps({"first": [m for _, m in r.failed],
                  "second": [m for _, m in r2.failed],
                  "applied": [o.kind for o in r2.applied],
                  "not_sent": len(r2.not_attempted)}))
""",
    )
    assert out["first"] == ["scheduler 'xyz' is not available (module ip_vs_xyz missing?)"]
    assert out["second"] == [
        "tcp 192.0.2.99:80 does not exist",
        "destination 192.0.2.21:80 of tcp 192.0.2.11:80 does not exist",
        "tcp 192.0.2.11:80 already exists",
    ]
    assert out["applied"] == ["add_service"]
    assert out["not_sent"] == 0


def test_without_ip_vs_loaded_check_mode_reads_empty(lab):
    # the module must not load ip_vs in check mode; unload it to see that
    lab.ssh(
        "ipvsadm -C; ipvsadm --stop-daemon master; ipvsadm --stop-daemon backup; "
        "for m in $(lsmod | awk '/^ip_vs_/ {print $1}'); do rmmod $m; done; rmmod ip_vs",
        check=False,
    )
    if lab.ssh("test -d /sys/module/ip_vs", check=False).returncode == 0:
        pytest.skip("ip_vs could not be unloaded")
    result = lab.module(
        "ipvs", {"services": [{"address": "192.0.2.10", "port": 80}]}, check_mode=True, diff=True
    )
    assert result["changed"] and result["diff"]["before"] == ""
    assert lab.ssh("test -d /sys/module/ip_vs", check=False).returncode != 0
    info = lab.module("ipvs_info", {"stats": False})["ipvs"]
    assert info["available"] is False
    result = lab.module(
        "ipvs", {"services": [{"address": "192.0.2.10", "port": 80, "scheduler": "lblcr"}]}
    )
    assert result["changed"] and not result.get("failed")
    assert lab.ssh("ipvsadm -Sn").stdout == "-A -t 192.0.2.10:80 -s lblcr\n"
    lab.ssh("ipvsadm -C")
