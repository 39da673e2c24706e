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
    {"address": f"198.18.{i // 250}.{i % 250 + 1}", "port": 80, "scheduler": "wrr",
     "destinations": [{"address": f"198.19.{i % 250}.{d}", "weight": d} for d in range(1, 6)]}
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


# Table entries only (no traffic) in 198.18.0.0/15, the benchmarking range (RFC 2544).
def test_declared_services_only_are_read(clean):
    lab = clean
    lines = []
    for i in range(200):
        lines.append(f"-A -t 198.18.{128 + i // 250}.{i % 250}:80 -s rr")
        lines += [
            f"-a -t 198.18.{128 + i // 250}.{i % 250}:80 -r 198.19.0.{d}:80 -g -w 1"
            for d in range(1, 4)
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
wanted = [Service(protocol="tcp", address="198.18.128.7", port=80),
          Service(protocol="tcp", address="198.18.250.250", port=80)]
with I.IPVS() as conn:
    found = conn.get_services(wanted)
print(json.dumps({"calls": calls, "found": [None if v is None else
                  [d.address for d in v.sorted_destinations()] for v in found.values()]}))
""",
    )
    # one batched lookup of both, one destination dump for the one that exists, no full dump
    assert out["calls"] == [["batch", 2], ["dump", 8]]
    assert out["found"] == [["198.19.0.1", "198.19.0.2", "198.19.0.3"], None]


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


PYROUTE2_DUMP = """
import json
from pyroute2 import IPVS, IPVSService

out = []
with IPVS() as conn:
    for msg in conn.service("dump"):
        svc = msg.get_attr("IPVS_CMD_ATTR_SERVICE")
        get = svc.get_attr
        entry = {"af": get("IPVS_SVC_ATTR_AF"), "fwmark": get("IPVS_SVC_ATTR_FWMARK") or 0,
                 "protocol": get("IPVS_SVC_ATTR_PROTOCOL"), "addr": get("IPVS_SVC_ATTR_ADDR"),
                 "port": get("IPVS_SVC_ATTR_PORT"), "sched": get("IPVS_SVC_ATTR_SCHED_NAME"),
                 "flags": get("IPVS_SVC_ATTR_FLAGS")["flags"] & ~2,
                 "timeout": get("IPVS_SVC_ATTR_TIMEOUT"), "dests": []}
        for d in conn.dest("dump", service=IPVSService.from_message(msg)):
            dest = d.get_attr("IPVS_CMD_ATTR_DEST").get_attr
            row = [dest(f"IPVS_DEST_ATTR_{k}") for k in (
                "ADDR", "PORT", "WEIGHT", "FWD_METHOD", "U_THRESH", "L_THRESH", "TUN_TYPE",
                "TUN_PORT", "TUN_FLAGS")]
            # the kernel sends TUN_PORT in network order (nla_put_be16); pyroute2 0.9.7
            # reads it as a host-order u16, so swap it back here
            row[7] = int.from_bytes(row[7].to_bytes(2, "little"), "big")
            entry["dests"].append(row)
        entry["dests"].sort()
        out.append(entry)
print(json.dumps(sorted(out, key=lambda e: (e["fwmark"], e["port"] or 0))))
"""


def test_pyroute2_reads_what_the_module_wrote(clean):
    """pyroute2 (PyPI, not this code) as a second, independent oracle."""
    import io
    import tarfile
    from pathlib import Path

    pyroute2 = pytest.importorskip("pyroute2")
    lab = clean
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(
            Path(pyroute2.__file__).parent,
            arcname="pyroute2",
            filter=lambda ti: None if "__pycache__" in ti.name else ti,
        )
    lab.ssh(
        "rm -rf /var/tmp/lvs-pyroute2 && mkdir -p /var/tmp/lvs-pyroute2 && "
        "tar -C /var/tmp/lvs-pyroute2 -xf -",
        input=buf.getvalue(),
    )
    services = [
        {
            "address": "192.0.2.10",
            "port": 80,
            "scheduler": "wrr",
            "destinations": [
                {"address": "192.0.2.21", "weight": 3, "upper_threshold": 40, "lower_threshold": 4},
                {
                    "address": "192.0.2.22",
                    "forwarding": "tun",
                    "tunnel_type": "gue",
                    "tunnel_port": 6080,
                    "tunnel_checksum": "csum",
                },
                {"address": "198.51.100.21", "port": 8080, "forwarding": "nat", "weight": 0},
            ],
        },
        {
            "fwmark": 7,
            "family": "ipv6",
            "scheduler": "sh",
            "hash_port": True,
            "persistence_timeout": 90,
            "destinations": [{"address": "2001:db8::21"}],
        },
    ]
    result = lab.module("ipvs", {"services": services})
    assert result["changed"] and not result.get("failed"), result.get("msg")
    seen = json.loads(
        lab.ssh("PYTHONPATH=/var/tmp/lvs-pyroute2 python3 -", input=PYROUTE2_DUMP).stdout
    )
    assert seen == [
        {
            "af": 2,
            "fwmark": 0,
            "protocol": 6,
            "addr": "192.0.2.10",
            "port": 80,
            "sched": "wrr",
            "flags": 0,
            "timeout": 0,
            "dests": [
                ["192.0.2.21", 80, 3, 3, 40, 4, 0, 0, 0],
                ["192.0.2.22", 80, 1, 2, 0, 0, 1, 6080, 1],
                ["198.51.100.21", 8080, 0, 0, 0, 0, 0, 0, 0],
            ],
        },
        {
            "af": 10,
            "fwmark": 7,
            "protocol": None,
            "addr": None,
            "port": None,
            "sched": "sh",
            "flags": 0x1 | 0x10,
            "timeout": 90,
            "dests": [["2001:db8::21", 0, 1, 3, 0, 0, 0, 0, 0]],
        },
    ]
