"""The real-server planner (module_utils/realserver.py): facts in, operations out.

Each case gives the wanted parameters and the host's facts and lists the exact
operations; every case also checks that the facts expected after the plan need no
operation (what check mode's diff predicts is what a rerun finds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from ansible_collections.lvs.cluster.plugins.module_utils import hostcode
from ansible_collections.lvs.cluster.plugins.module_utils import realserver as rs
from ansible_collections.lvs.cluster.plugins.modules import realserver as rs_module

REPO = Path(__file__).resolve().parents[2]
DR = {"address": "192.0.2.100", "method": "dr"}
TUN = {"address": "192.0.2.101", "method": "tun"}
DR6 = {"address": "2001:db8::100", "method": "dr"}
NAT = {
    "gateway": "198.51.100.1",
    "interface": "eth1",
    "source": "198.51.100.21",
    "network": "198.51.100.0/24",
}
ARP = {
    f"net.ipv4.conf.{dev}.{key}": value
    for dev in ("all", "eth0")
    for key, value in (("arp_ignore", "1"), ("arp_announce", "2"))
}
RP = {f"net.ipv4.conf.{dev}.rp_filter": "0" for dev in ("all", "tunl0", "eth0")}
NAT_RULES = frozenset({(100, "198.51.100.21")})
NAT_ROUTES = frozenset(
    {
        ("198.51.100.0/24", None, "eth1", "198.51.100.21"),
        ("default", "198.51.100.1", "eth1", None),
    }
)
NAT_OPS = [
    "add rule 100: from 198.51.100.21 lookup 100",
    "route 198.51.100.0/24 dev eth1 table 100",
    "route default via 198.51.100.1 dev eth1 table 100",
]


def facts(**kw) -> rs.Facts:
    return rs.Facts(**kw)


def link(*addresses, up=True) -> rs.Link:
    return rs.Link(up, frozenset(addresses))


CASES = [
    ("nothing-wanted-nothing-there", {}, facts(), []),
    (
        "dr-from-nothing",
        {"vips": [DR]},
        facts(sysctls=dict.fromkeys(ARP, "0")),
        [
            "load module dummy",
            *(f"sysctl {k}: 0 -> {v}" for k, v in ARP.items()),
            "create dummy device lvs0",
            "set lvs0 up",
            "add 192.0.2.100/32 to lvs0",
        ],
    ),
    (
        "dr-no-op",
        {"vips": [DR]},
        facts(links={"lvs0": link("192.0.2.100/32")}, sysctls=ARP, modules=frozenset({"dummy"})),
        [],
    ),
    (
        "dr-device-down-and-a-foreign-address",
        {"vips": [DR]},
        facts(
            links={"lvs0": link("192.0.2.100/32", "192.0.2.99/32", up=False)},
            sysctls=ARP,
            modules=frozenset({"dummy"}),
        ),
        ["set lvs0 up", "remove 192.0.2.99/32 from lvs0"],
    ),
    (
        "dr-removed-deletes-the-device",
        {"vips": [{**DR, "state": "absent"}]},
        facts(links={"lvs0": link("192.0.2.100/32")}, sysctls=ARP, modules=frozenset({"dummy"})),
        ["delete lvs0"],
    ),
    (
        "dr-on-another-device",
        {"vips": [DR], "dr_device": "vip0"},
        facts(links={"vip0": link()}, sysctls=ARP, modules=frozenset({"dummy"})),
        ["add 192.0.2.100/32 to vip0"],
    ),
    (
        "ipv6-dr-loads-ipv6",
        {"vips": [DR6]},
        facts(sysctls=ARP, modules=frozenset({"dummy"})),
        [
            "load module ipv6",
            "create dummy device lvs0",
            "set lvs0 up",
            "add 2001:db8::100/128 to lvs0",
        ],
    ),
    (
        "ipv6-dr-no-op",
        {"vips": [DR6, DR]},
        facts(
            links={"lvs0": link("2001:db8::100/128", "192.0.2.100/32")},
            sysctls=ARP,
            modules=frozenset({"dummy", "ipv6"}),
        ),
        [],
    ),
    (
        "tun-from-nothing-tunl0-keys-appear-with-ipip",
        {"vips": [TUN]},
        facts(sysctls={**ARP, **dict.fromkeys(RP, "1"), "net.ipv4.conf.tunl0.rp_filter": None}),
        [
            "load module ipip",
            "sysctl net.ipv4.conf.all.rp_filter: 1 -> 0",
            "sysctl net.ipv4.conf.tunl0.rp_filter: None -> 0",
            "sysctl net.ipv4.conf.eth0.rp_filter: 1 -> 0",
            "set tunl0 up",
            "add 192.0.2.101/32 to tunl0",
        ],
    ),
    (
        "tun-removed-tunl0-keeps-existing-without-addresses",
        {"vips": []},
        facts(links={"tunl0": link("192.0.2.101/32")}, modules=frozenset({"ipip"})),
        ["remove 192.0.2.101/32 from tunl0"],
    ),
    (
        "tunl0-without-tun-vips-no-op",
        {"vips": [DR]},
        facts(
            links={"lvs0": link("192.0.2.100/32"), "tunl0": link(up=False)},
            sysctls=ARP,
            modules=frozenset({"dummy", "ipip"}),
        ),
        [],
    ),
    ("nat-from-nothing", {"nat": NAT}, facts(), NAT_OPS),
    ("nat-no-op", {"nat": NAT}, facts(rules=NAT_RULES, routes=NAT_ROUTES), []),
    (
        "nat-removed",
        {"nat": None},
        facts(rules=NAT_RULES, routes=NAT_ROUTES),
        [
            "remove rule 100: from 198.51.100.21 lookup 100",
            "remove route 198.51.100.0/24 table 100",
            "remove route default table 100",
        ],
    ),
    (
        "nat-new-gateway-and-priority",
        {"nat": {**NAT, "gateway": "198.51.100.2"}, "nat_priority": 90},
        facts(rules=NAT_RULES, routes=NAT_ROUTES),
        [
            "remove rule 100: from 198.51.100.21 lookup 100",
            "add rule 90: from 198.51.100.21 lookup 100",
            "remove route default table 100",
            "route default via 198.51.100.2 dev eth1 table 100",
        ],
    ),
    (
        "nat-foreign-rule-into-our-table-removed",
        {"nat": NAT},
        facts(rules=NAT_RULES | {(200, "all")}, routes=NAT_ROUTES),
        ["remove rule 200: from all lookup 100"],
    ),
    (
        "dr-tun-nat-from-nothing",
        {"vips": [DR, TUN], "nat": NAT, "interfaces": ["eth0", "eth1"]},
        facts(),
        [
            "load module dummy",
            "load module ipip",
            *(
                f"sysctl net.ipv4.conf.{dev}.{key}: None -> {value}"
                for dev in ("all", "eth0", "eth1")
                for key, value in (("arp_ignore", 1), ("arp_announce", 2))
            ),
            *(
                f"sysctl net.ipv4.conf.{dev}.rp_filter: None -> 0"
                for dev in ("all", "tunl0", "eth0", "eth1")
            ),
            "create dummy device lvs0",
            "set lvs0 up",
            "add 192.0.2.100/32 to lvs0",
            "set tunl0 up",
            "add 192.0.2.101/32 to tunl0",
            *NAT_OPS,
        ],
    ),
    (
        "dr-tun-nat-no-op",
        {"vips": [DR, TUN], "nat": NAT},
        facts(
            links={"lvs0": link("192.0.2.100/32"), "tunl0": link("192.0.2.101/32")},
            rules=NAT_RULES,
            routes=NAT_ROUTES,
            sysctls={**ARP, **RP},
            modules=frozenset({"dummy", "ipip"}),
        ),
        [],
    ),
    (
        "dr-tun-nat-all-removed",
        {"vips": [], "nat": None},
        facts(
            links={"lvs0": link("192.0.2.100/32"), "tunl0": link("192.0.2.101/32")},
            rules=NAT_RULES,
            routes=NAT_ROUTES,
            sysctls={**ARP, **RP},
            modules=frozenset({"dummy", "ipip"}),
        ),
        [
            "delete lvs0",
            "remove 192.0.2.101/32 from tunl0",
            "remove rule 100: from 198.51.100.21 lookup 100",
            "remove route 198.51.100.0/24 table 100",
            "remove route default table 100",
        ],
    ),
]


@pytest.mark.parametrize(
    ("params", "host", "ops"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_plan(params, host, ops):
    wanted = rs.Wanted.from_params(params)
    assert [op.text for op in rs.plan(wanted, host)] == ops
    # what the diff predicts needs nothing more, and a no-op predicts no change
    after = rs.expect(wanted, host)
    assert rs.plan(wanted, after) == []
    if not ops:
        assert rs.describe(after) == rs.describe(host)


def test_commands_of_a_full_plan():
    wanted = rs.Wanted.from_params({"vips": [DR, TUN], "nat": NAT})
    argv = [op.argv for op in rs.plan(wanted, facts(sysctls={**ARP, **RP})) if op.argv]
    assert argv == [
        ("modprobe", "dummy"),
        ("modprobe", "ipip"),
        ("ip", "link", "add", "lvs0", "type", "dummy"),
        ("ip", "link", "set", "lvs0", "up"),
        ("ip", "addr", "add", "192.0.2.100/32", "dev", "lvs0"),
        ("ip", "link", "set", "tunl0", "up"),
        ("ip", "addr", "add", "192.0.2.101/32", "dev", "tunl0"),
        ("ip", "-4", "rule", "add", "priority", "100", "from", "198.51.100.21", "table", "100"),
        *(
            ("ip", "-4", "route", "replace", *route, "table", "100")
            for route in (
                ("198.51.100.0/24", "dev", "eth1", "src", "198.51.100.21"),
                ("default", "via", "198.51.100.1", "dev", "eth1"),
            )
        ),
    ]
    removal = rs.plan(
        rs.Wanted.from_params({}),
        facts(rules=NAT_RULES, routes=NAT_ROUTES, links={"tunl0": link("192.0.2.101/32")}),
    )
    assert [op.argv for op in removal] == [
        ("ip", "addr", "del", "192.0.2.101/32", "dev", "tunl0"),
        ("ip", "-4", "rule", "del", "priority", "100", "from", "198.51.100.21", "table", "100"),
        ("ip", "-4", "route", "del", "198.51.100.0/24", "table", "100", "dev", "eth1"),
        (
            "ip",
            "-4",
            "route",
            "del",
            "default",
            "table",
            "100",
            "via",
            "198.51.100.1",
            "dev",
            "eth1",
        ),
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"vips": [DR, DR]}, "listed more than once"),
        ({"vips": [DR, {**DR, "method": "tun"}]}, "listed more than once"),
        ({"vips": [{"address": "2001:db8::1", "method": "tun"}]}, "TUN VIPs are IPv4"),
        ({"vips": [{"address": "192.0.2.300", "method": "dr"}]}, "not an IP address"),
        ({"vips": [{"address": "192.0.2.1", "method": "nat"}]}, "method must be dr or tun"),
        ({"nat": {**NAT, "source": NAT["gateway"]}}, "cannot be its own gateway"),
        ({"nat": {**NAT, "network": "nonsense"}}, "needs IPv4"),
        ({"nat_table": 254}, "must be 1..252"),
        ({"nat_priority": 0}, "must be 1..32765"),
        ({"vip": []}, "unknown parameters: vip"),
    ],
)
def test_bad_input_is_refused(params, message):
    with pytest.raises(ValueError, match=message):
        rs.Wanted.from_params(params)


def test_absent_duplicate_is_no_duplicate():
    wanted = rs.Wanted.from_params({"vips": [DR, {**DR, "state": "absent"}]})
    assert wanted.dr_vips == ("192.0.2.100/32",)


# ---------------------------------------------------------------- facts from iproute2

ADDR_JSON = [
    {"ifname": "lo", "flags": ["LOOPBACK", "UP"], "addr_info": [
        {"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host"}]},
    {"ifname": "lvs0", "flags": ["BROADCAST", "NOARP", "UP", "LOWER_UP"], "addr_info": [
        {"family": "inet", "local": "192.0.2.100", "prefixlen": 32, "scope": "global"},
        {"family": "inet6", "local": "2001:db8::100", "prefixlen": 128, "scope": "global"},
        {"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"}]},
    {"ifname": "tunl0", "flags": ["NOARP"], "addr_info": []},
]  # fmt: skip
RULE_JSON = [
    {"priority": 0, "src": "all", "table": "local"},
    {"priority": 100, "src": "198.51.100.21", "table": "100"},
    {"priority": 101, "src": "198.51.100.0", "srclen": 24, "table": "100"},
    {"priority": 32766, "src": "all", "table": "main"},
]
ROUTE_JSON = [
    {"dst": "default", "gateway": "198.51.100.1", "dev": "eth1", "flags": []},
    {"dst": "198.51.100.0/24", "dev": "eth1", "scope": "link", "prefsrc": "198.51.100.21",
     "flags": []},
]  # fmt: skip


def test_parse_iproute2_json():
    assert rs.parse_links(ADDR_JSON, ("lvs0", "tunl0")) == {
        "lvs0": link("192.0.2.100/32", "2001:db8::100/128"),
        "tunl0": link(up=False),
    }
    assert rs.parse_rules(RULE_JSON, 100) == {(100, "198.51.100.21"), (101, "198.51.100.0/24")}
    assert rs.parse_routes(ROUTE_JSON) == NAT_ROUTES


def test_read_facts_with_a_fake_host(tmp_path):
    for key, value in {**ARP, "net.ipv4.conf.all.rp_filter": "2"}.items():
        path = tmp_path / "proc/sys" / key.replace(".", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{value}\n")
    (tmp_path / "sys/module/dummy").mkdir(parents=True)
    replies = {
        ("ip", "-j", "addr", "show"): ADDR_JSON,
        ("ip", "-j", "-4", "rule", "show"): RULE_JSON,
        ("ip", "-j", "-4", "route", "show", "table", "100"): ROUTE_JSON,
    }

    def run(argv):
        if argv[0] == "systemctl":
            return 3, "inactive\n", ""
        return 0, json.dumps(replies[tuple(argv)]), ""

    wanted = rs.Wanted.from_params({"vips": [DR, TUN]})
    got = rs.read_facts(wanted, run, files=[rs.STATE_PATH], root=str(tmp_path))
    assert got.sysctls == {
        **ARP,
        "net.ipv4.conf.all.rp_filter": "2",
        "net.ipv4.conf.tunl0.rp_filter": None,
        "net.ipv4.conf.eth0.rp_filter": None,
    }
    assert got.modules == {"dummy"}
    assert got.files == {rs.STATE_PATH: (None, None)}
    assert not got.unit_enabled and not got.unit_active


# ----------------------------------------------------------------- boot persistence


def persisted(wanted, **kw) -> rs.Facts:
    return facts(files=dict(rs.boot_files(wanted)), unit_enabled=True, unit_active=True, **kw)


def test_persisted_no_op_and_what_each_difference_costs():
    wanted = rs.Wanted.from_params({"nat": NAT})
    files = rs.boot_files(wanted)
    host = persisted(wanted, rules=NAT_RULES, routes=NAT_ROUTES)
    assert rs.plan(wanted, host, files) == []
    stale_unit = {**host.files, rs.UNIT_PATH: ("old", 0o644)}
    assert [op.text for op in rs.plan(wanted, replace(host, files=stale_unit), files)] == [
        f"write {rs.UNIT_PATH}",
        "systemctl daemon-reload",
    ]
    wrong_mode = {**host.files, rs.PROGRAM_PATH: (files[rs.PROGRAM_PATH][0], 0o644)}
    assert [op.text for op in rs.plan(wanted, replace(host, files=wrong_mode), files)] == [
        f"write {rs.PROGRAM_PATH}"
    ]
    fresh = facts(files=dict.fromkeys(files, (None, None)))
    ops = [op.text for op in rs.plan(wanted, fresh, files)]
    assert ops[: len(files)] == [f"write {path}" for path in files]
    assert ops[len(files) :] == [
        "systemctl daemon-reload",
        f"enable {rs.UNIT}",
        *NAT_OPS,
        f"start {rs.UNIT}",
    ]
    assert rs.plan(wanted, rs.expect(wanted, fresh, files), files) == []


def test_boot_files_hold_the_state_the_modules_and_the_sysctls():
    wanted = rs.Wanted.from_params({"vips": [DR, TUN], "nat": NAT})
    files = rs.boot_files(wanted)
    assert rs.Wanted.from_params(json.loads(files[rs.STATE_PATH][0])) == wanted
    assert files[rs.MODULES_PATH][0] == rs.HEADER + "dummy\nipip\n"
    assert files[rs.SYSCTL_PATH][0].splitlines()[1:] == [
        f"{k} = {v}" for k, v in sorted({**ARP, **RP}.items())
    ]
    assert f"ExecStart={rs.PROGRAM_PATH} apply --state {rs.STATE_PATH}" in files[rs.UNIT_PATH][0]


def test_installed_code_is_the_running_code_and_its_entry_script_runs(tmp_path):
    files = hostcode.files(rs.CODE, [(rs.PROGRAM, "realserver", "main")],
                           root=str(tmp_path / "lib"), sbin=str(tmp_path / "sbin"))  # fmt: skip
    package = tmp_path / "lib/ansible_collections/lvs/cluster/plugins/module_utils"
    inits = [p for p in files if p.endswith("__init__.py")]
    assert len(inits) == 5 and str(package / "__init__.py") in inits
    for name in rs.CODE:
        assert (
            files[str(package / f"{name}.py")][0]
            == Path(sys.modules[f"{hostcode.PACKAGE}.{name}"].__file__).read_text()
        )
    for path, (text, mode) in files.items():
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)
        os.chmod(path, mode)
    state = tmp_path / "state.json"
    state.write_text("{}")
    # nothing but the installed copy is importable (-I, the entry script's sys.path)
    proc = subprocess.run(
        [str(tmp_path / "sbin/lvs-realserver"), "apply", "--state", str(tmp_path / "missing")],
        capture_output=True, text=True, cwd=tmp_path, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert proc.returncode == 1 and json.loads(proc.stdout)["failed"], proc.stderr
    assert "missing" in json.loads(proc.stdout)["msg"]


# ------------------------------------------------------------------------- executor


def test_execute_writes_sysctls_files_and_runs_commands(tmp_path):
    key = tmp_path / "proc/sys/net/ipv4/conf/all/arp_ignore"
    key.parent.mkdir(parents=True)
    key.write_text("0\n")
    ran = []
    ops = [
        rs.Op("write x", file=("/etc/x.conf", "text\n", 0o644)),
        rs.Op("sysctl", sysctl=("net.ipv4.conf.all.arp_ignore", "1")),
        rs.Op("cmd", argv=("true",)),
    ]
    done = rs.execute(ops, lambda argv: (ran.append(argv), (0, "", ""))[1], root=str(tmp_path))
    assert done == ["write x", "sysctl", "cmd"]
    assert key.read_text() == "1\n"
    assert (tmp_path / "etc/x.conf").read_text() == "text\n"
    assert ran == [["true"]]


def test_execute_stops_at_the_first_failure_and_says_what_was_done(tmp_path):
    ops = [rs.Op("one", argv=("a",)), rs.Op("two", argv=("b",)), rs.Op("three", argv=("c",))]

    def run(argv):
        return (2, "", "RTNETLINK answers: File exists") if argv == ["b"] else (0, "", "")

    with pytest.raises(rs.OperationFailed) as failed:
        rs.execute(ops, run)
    assert failed.value.done == ["one"]
    assert failed.value.failed == "two"
    assert failed.value.not_attempted == ["three"]
    assert "File exists" in str(failed.value)


# ------------------------------------------------------------------ the module's docs


def test_module_documentation_matches_the_argument_spec():
    doc = yaml.safe_load(rs_module.DOCUMENTATION)["options"]

    def compare(documented, spec):
        assert set(documented) == set(spec)
        for name, option in spec.items():
            for key in ("type", "choices", "default", "required", "elements"):
                assert documented[name].get(key) == option.get(key), (name, key)
            if "options" in option:
                compare(documented[name]["suboptions"], option["options"])

    compare(doc, rs.ARGUMENT_SPEC)


def test_role_spec_and_module_spec_agree():
    spec = REPO / "roles/lvs_realserver/meta/argument_specs.yml"
    role = yaml.safe_load(spec.read_text())["argument_specs"]["main"]["options"]
    renamed = {"nat_priority": "lvs_realserver_nat_rule_priority"}
    for name, option in rs.ARGUMENT_SPEC.items():
        theirs = role[renamed.get(name, f"lvs_realserver_{name}")]
        for key in ("type", "choices", "default", "elements"):
            assert theirs.get(key) == option.get(key), (name, key)
        for sub, suboption in option.get("options", {}).items():
            for key in ("type", "choices", "default", "required"):
                assert theirs["options"][sub].get(key) == suboption.get(key), (name, sub, key)


def test_a_table_never_used_reads_as_empty():
    def run(argv):
        if argv[:3] == ["ip", "-j", "-4"] and "route" in argv:
            return 2, "", "Error: ipv4: FIB table does not exist.\nDump terminated\n"
        return 0, "[]", ""

    assert rs.read_facts(rs.Wanted.from_params({}), run).routes == frozenset()
