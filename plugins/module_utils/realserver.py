# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""An LVS real server's network: wanted state and facts in, operations out.

Stdlib only, no Ansible imports. The lvs.cluster.realserver module and the boot unit
lvs-realserver.service run this same code (the unit runs the copy installed under
/usr/local/lib/lvs-cluster, see module_utils/hostcode.py).

The wanted state is the lvs_realserver role's input: VIPs ({address, method: dr|tun}),
the NAT source rule ({gateway, interface, source, network} or None) and the interfaces
to tune. From it follow the kernel modules (dummy, ipip, ipv6 for an IPv6 VIP), the
sysctls (arp_ignore/arp_announce wherever a VIP is held, rp_filter=0 with TUN), the DR
VIPs as host routes on a non-ARP dummy device, the TUN VIPs on tunl0, and a rule and two
routes of a table of ours. This code owns those objects: it removes addresses on the
dummy device and tunl0, and rules and routes of the NAT table, that are not declared.
Sysctls no longer declared keep their live value (nothing says what it was before) and
leave the sysctl.d file.

  wanted = Wanted.from_params(params)      # ValueError on bad input
  facts = read_facts(wanted, run)          # run: argv -> (rc, stdout, stderr)
  ops = plan(wanted, facts, boot_files(wanted))   # [] when nothing differs
  execute(ops, run)                        # raises OperationFailed midway
  describe(facts), describe(expect(wanted, facts))  # diff before / after

``main()`` is the boot unit's program: ``lvs-realserver apply --state FILE [--check]
[--wait S]`` prints {"changed": bool, "ops": [...]}.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace

from ansible_collections.lvs.cluster.plugins.module_utils import hostcode, sysctl

STATE_PATH = "/etc/lvs-realserver.json"
PROGRAM = "lvs-realserver"
PROGRAM_PATH = os.path.join(hostcode.SBIN, PROGRAM)
UNIT = "lvs-realserver.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT}"
UNIT_LINK = f"/etc/systemd/system/multi-user.target.wants/{UNIT}"
MODULES_PATH = "/etc/modules-load.d/lvs-realserver.conf"
SYSCTL_PATH = "/etc/sysctl.d/60-lvs-realserver.conf"
HEADER = "# Written by lvs.cluster.realserver (role lvs.cluster.lvs_realserver): do not edit.\n"
# the module_utils the boot unit imports
CODE = ("hostcode", "sysctl", "realserver")
TUNNEL = "tunl0"
MODULES = ("dummy", "ipip", "ipv6")

# The module's argument spec (plain data): the role's inputs without the prefix.
ARGUMENT_SPEC = {
    "vips": {
        "type": "list",
        "elements": "dict",
        "default": [],
        "options": {
            "address": {"type": "str", "required": True},
            "method": {"type": "str", "required": True, "choices": ["dr", "tun"]},
            "services": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        },
    },
    "nat": {
        "type": "dict",
        "options": {
            name: {"type": "str", "required": True}
            for name in ("gateway", "interface", "source", "network")
        },
    },
    "interfaces": {"type": "list", "elements": "str", "default": ["eth0"]},
    "arp_ignore": {"type": "int", "choices": [0, 1, 2, 3, 8], "default": 1},
    "arp_announce": {"type": "int", "choices": [0, 1, 2], "default": 2},
    "dr_device": {"type": "str", "default": "lvs0"},
    "nat_table": {"type": "int", "default": 100},
    "nat_priority": {"type": "int", "default": 100},
}

# Why a oneshot unit rather than systemd-networkd .netdev/.network files: the same code
# applies the state live (the module, check mode included) and at boot, so the two
# cannot drift; it removes what is no longer declared; and it works whatever manages
# the host's own interfaces (networkd from the kernel command line in the lab, ifupdown
# or NetworkManager elsewhere), where networkd files would mean drop-ins in .network
# files the role does not own, and tunl0 (made by the ipip module) is not a device
# networkd creates. PartOf= re-applies the state when networkd restarts (the unit is
# started by every converge, so it is active), in case networkd dropped our rules.
UNIT_TEXT = f"""{HEADER}[Unit]
Description=LVS real server VIPs, tunnel and NAT source rule
Documentation=file://{hostcode.package_dir()}/realserver.py
Wants=network-online.target
After=network-online.target systemd-networkd.service systemd-modules-load.service
After=systemd-sysctl.service
PartOf=systemd-networkd.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart={PROGRAM_PATH} apply --state {STATE_PATH} --wait 30

[Install]
WantedBy=multi-user.target
"""


def host_prefix(address: str) -> str:
    ip = ipaddress.ip_address(address)
    return f"{ip}/{ip.max_prefixlen}"


# ------------------------------------------------------------------------ wanted state


@dataclass(frozen=True)
class Nat:
    gateway: str
    interface: str
    source: str
    network: str  # canonical CIDR


@dataclass(frozen=True)
class Wanted:
    dr_device: str = "lvs0"
    dr_vips: tuple[str, ...] = ()  # host prefixes, sorted
    tun_vips: tuple[str, ...] = ()
    nat: Nat | None = None
    nat_table: int = 100
    nat_priority: int = 100
    interfaces: tuple[str, ...] = ("eth0",)
    arp_ignore: int = 1
    arp_announce: int = 2
    params: dict = field(default_factory=dict, compare=False)  # what the state file keeps

    @classmethod
    def from_params(cls, params: dict) -> Wanted:
        """The module's (or the state file's) parameters, defaults applied, checked."""
        p = {name: spec.get("default") for name, spec in ARGUMENT_SPEC.items()}
        p.update({k: v for k, v in (params or {}).items() if v is not None})
        unknown = set(p) - set(ARGUMENT_SPEC)
        if unknown:
            raise ValueError(f"unknown parameters: {', '.join(sorted(unknown))}")
        dr, tun, seen = set(), set(), set()
        for vip in p["vips"]:
            if vip.get("method") not in ("dr", "tun"):
                raise ValueError(f"vip {vip}: method must be dr or tun")
            try:
                address = host_prefix(vip["address"])
            except (KeyError, ValueError) as exc:
                raise ValueError(f"vip {vip}: not an IP address") from exc
            if vip.get("state", "present") == "absent":
                continue
            if address in seen:
                raise ValueError(f"vip {vip['address']} is listed more than once")
            seen.add(address)
            if vip["method"] == "tun" and ":" in address:
                raise ValueError(f"vip {vip['address']}: TUN VIPs are IPv4 (ipip)")
            (dr if vip["method"] == "dr" else tun).add(address)
        nat = None
        if p["nat"]:
            try:
                n = p["nat"]
                gateway = str(ipaddress.IPv4Address(n["gateway"]))
                source = str(ipaddress.IPv4Address(n["source"]))
                network = str(ipaddress.IPv4Network(n["network"], strict=False))
                nat = Nat(gateway, n["interface"], source, network)
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"nat {p['nat']}: needs IPv4 gateway, source, network") from exc
            if source == gateway:
                raise ValueError(f"nat: the source {source} cannot be its own gateway")
        if not 1 <= p["nat_table"] <= 252:
            raise ValueError(f"nat_table {p['nat_table']}: must be 1..252")
        if not 1 <= p["nat_priority"] <= 32765:
            raise ValueError(f"nat_priority {p['nat_priority']}: must be 1..32765")
        return cls(
            dr_device=p["dr_device"],
            dr_vips=tuple(sorted(dr)),
            tun_vips=tuple(sorted(tun)),
            nat=nat,
            nat_table=p["nat_table"],
            nat_priority=p["nat_priority"],
            interfaces=tuple(p["interfaces"]),
            arp_ignore=p["arp_ignore"],
            arp_announce=p["arp_announce"],
            params=p,
        )

    @property
    def modules(self) -> tuple[str, ...]:
        wanted = []
        if self.dr_vips:
            wanted.append("dummy")
        if self.tun_vips:
            wanted.append("ipip")
        if any(":" in a for a in self.dr_vips):
            wanted.append("ipv6")
        return tuple(wanted)

    @property
    def sysctls(self) -> dict[str, str]:
        values = {}
        if self.dr_vips or self.tun_vips:
            # the kernel answers ARP for any local address on any interface unless told
            # not to (TUN VIPs on the front segment too)
            for dev in ("all", *self.interfaces):
                values[f"net.ipv4.conf.{dev}.arp_ignore"] = str(self.arp_ignore)
                values[f"net.ipv4.conf.{dev}.arp_announce"] = str(self.arp_announce)
        if self.tun_vips:
            # the decapsulated packet arrives on tunl0 while the route back leaves by the
            # front interface; the kernel uses max(conf.all, conf.<device>)
            for dev in ("all", TUNNEL, *self.interfaces):
                values[f"net.ipv4.conf.{dev}.rp_filter"] = "0"
        return values

    @property
    def rules(self) -> frozenset:
        return frozenset({(self.nat_priority, self.nat.source)} if self.nat else ())

    @property
    def routes(self) -> frozenset:
        if not self.nat:
            return frozenset()
        n = self.nat
        return frozenset(
            {(n.network, None, n.interface, n.source), ("default", n.gateway, n.interface, None)}
        )


# ------------------------------------------------------------------------------- facts


@dataclass(frozen=True)
class Link:
    up: bool = False
    addresses: frozenset = frozenset()  # "a/p", link-local ones left out


@dataclass(frozen=True)
class Facts:
    links: dict = field(default_factory=dict)  # name -> Link, for the two devices we own
    rules: frozenset = frozenset()  # (priority, from) of the rules looking up our table
    routes: frozenset = frozenset()  # (dst, gateway, dev, prefsrc) of our table
    sysctls: dict = field(default_factory=dict)  # key -> live value or None
    modules: frozenset = frozenset()  # loaded, among MODULES
    files: dict = field(default_factory=dict)  # path -> (text, mode) or (None, None)
    unit_enabled: bool = False
    unit_active: bool = False


def parse_links(addr_json: list, names) -> dict[str, Link]:
    """`ip -j addr show` -> the Link of each device of ``names`` that exists."""
    links = {}
    for link in addr_json:
        if link.get("ifname") in names:
            links[link["ifname"]] = Link(
                up="UP" in link.get("flags", []),
                addresses=frozenset(
                    f"{a['local']}/{a['prefixlen']}"
                    for a in link.get("addr_info", [])
                    if a.get("family") in ("inet", "inet6") and a.get("scope") != "link"
                ),
            )
    return links


def parse_rules(rule_json: list, table: int) -> frozenset:
    """`ip -j -4 rule show` -> (priority, from) of the rules that look up ``table``."""
    rules = set()
    for r in rule_json:
        if r.get("table") != str(table):
            continue
        src = r.get("src", "all")
        if "srclen" in r and r["srclen"] != 32:
            src = f"{src}/{r['srclen']}"
        rules.add((r.get("priority"), src))
    return frozenset(rules)


def parse_routes(route_json: list) -> frozenset:
    """`ip -j -4 route show table N` -> (dst, gateway, dev, prefsrc)."""
    return frozenset(
        (r["dst"], r.get("gateway"), r.get("dev"), r.get("prefsrc")) for r in route_json
    )


def _ip_json(run, *args: str) -> list:
    rc, out, err = run(["ip", "-j", *args])
    if rc and "table does not exist" in err:
        return []  # a routing table nothing was ever added to
    if rc:
        raise RuntimeError(f"ip {' '.join(args)}: {err.strip()}")
    return json.loads(out or "[]")


def read_facts(wanted: Wanted, run, files=(), root: str = "/") -> Facts:
    """The host's state as far as ``wanted`` owns it. With ``files`` (the paths of
    boot_files()), also those files and whether the unit is enabled and active."""
    rc, out, _err = run(["systemctl", "is-active", UNIT]) if files else (1, "", "")
    return Facts(
        links=parse_links(_ip_json(run, "addr", "show"), (wanted.dr_device, TUNNEL)),
        rules=parse_rules(_ip_json(run, "-4", "rule", "show"), wanted.nat_table),
        routes=parse_routes(_ip_json(run, "-4", "route", "show", "table", str(wanted.nat_table))),
        sysctls=sysctl.read(wanted.sysctls, os.path.join(root, "proc/sys")),
        modules=frozenset(m for m in MODULES if os.path.isdir(os.path.join(root, "sys/module", m))),
        files={path: sysctl.read_file(os.path.join(root, path.lstrip("/"))) for path in files},
        unit_enabled=bool(files) and os.path.islink(os.path.join(root, UNIT_LINK.lstrip("/"))),
        unit_active=rc == 0 and out.strip() == "active",
    )


# -------------------------------------------------------------------------- operations


@dataclass(frozen=True)
class Op:
    """One step: a command, a live sysctl, or a file (written atomically and durably)."""

    text: str
    argv: tuple[str, ...] = ()
    sysctl: tuple[str, str] | None = None
    file: tuple[str, str, int] | None = None


def _cmd(text: str, *argv: str) -> Op:
    return Op(text, argv=argv)


def _device_ops(name: str, want: tuple, link: Link | None, dummy: bool) -> list[Op]:
    """Hold exactly ``want`` on ``name``, up. A dummy device is created for VIPs and
    deleted without; tunl0 (from ipip) only loses its addresses."""
    ops = []
    if not want:
        if link and dummy:
            ops.append(_cmd(f"delete {name}", "ip", "link", "del", name))
        elif link:
            for addr in sorted(link.addresses):
                ops.append(
                    _cmd(f"remove {addr} from {name}", "ip", "addr", "del", addr, "dev", name)
                )
        return ops
    if link is None and dummy:
        ops.append(_cmd(f"create dummy device {name}", "ip", "link", "add", name, "type", "dummy"))
    if link is None or not link.up:
        ops.append(_cmd(f"set {name} up", "ip", "link", "set", name, "up"))
    have = link.addresses if link else frozenset()
    for addr in sorted(have - set(want)):
        ops.append(_cmd(f"remove {addr} from {name}", "ip", "addr", "del", addr, "dev", name))
    for addr in sorted(set(want) - have):
        ops.append(_cmd(f"add {addr} to {name}", "ip", "addr", "add", addr, "dev", name))
    return ops


def _nat_ops(wanted: Wanted, facts: Facts) -> list[Op]:
    """Replies from the back address leave through the inside VIP (a table of ours)."""
    tab = str(wanted.nat_table)
    ops = []
    for prio, src in sorted(facts.rules - wanted.rules, key=str):
        argv = ["ip", "-4", "rule", "del", "priority", str(prio), "from", src, "table", tab]
        ops.append(_cmd(f"remove rule {prio}: from {src} lookup {tab}", *argv))
    for prio, src in sorted(wanted.rules - facts.rules):
        argv = ["ip", "-4", "rule", "add", "priority", str(prio), "from", src, "table", tab]
        ops.append(_cmd(f"add rule {prio}: from {src} lookup {tab}", *argv))
    for dst, gateway, dev, _src in sorted(facts.routes - wanted.routes, key=str):
        argv = ["ip", "-4", "route", "del", dst, "table", tab]
        argv += ["via", gateway] if gateway else []
        argv += ["dev", dev] if dev else []
        ops.append(_cmd(f"remove route {dst} table {tab}", *argv))
    # the on-link route first: the default route's gateway is resolved through it
    for dst, gateway, dev, src in sorted(wanted.routes - facts.routes, key=lambda r: r[1] or ""):
        argv = ["ip", "-4", "route", "replace", dst]
        argv += ["via", gateway] if gateway else []
        argv += ["dev", dev]
        argv += ["src", src] if src else []
        argv += ["table", tab]
        via = f" via {gateway}" if gateway else ""
        ops.append(_cmd(f"route {dst}{via} dev {dev} table {tab}", *argv))
    return ops


def live_ops(wanted: Wanted, facts: Facts) -> list[Op]:
    """Modules, then sysctls (arp_ignore/arp_announce before any VIP appears), then the
    devices and the NAT table."""
    ops = [
        _cmd(f"load module {m}", "modprobe", m) for m in wanted.modules if m not in facts.modules
    ]
    for key, (before, value) in sysctl.differing(wanted.sysctls, facts.sysctls).items():
        ops.append(Op(f"sysctl {key}: {before} -> {value}", sysctl=(key, value)))
    ops += _device_ops(
        wanted.dr_device, wanted.dr_vips, facts.links.get(wanted.dr_device), dummy=True
    )
    if wanted.tun_vips or TUNNEL in facts.links:
        ops += _device_ops(TUNNEL, wanted.tun_vips, facts.links.get(TUNNEL), dummy=False)
    return ops + _nat_ops(wanted, facts)


def boot_files(wanted: Wanted) -> dict[str, tuple[str, int]]:
    """path -> (text, mode) of everything that restores the state at boot."""
    state = json.dumps(wanted.params, indent=2, sort_keys=True) + "\n"
    return {
        **hostcode.files(CODE, [(PROGRAM, "realserver", "main")]),
        STATE_PATH: (state, 0o644),
        MODULES_PATH: (HEADER + "".join(f"{m}\n" for m in wanted.modules), 0o644),
        SYSCTL_PATH: (sysctl.render(wanted.sysctls, HEADER), 0o644),
        UNIT_PATH: (UNIT_TEXT, 0o644),
    }


def plan(wanted: Wanted, facts: Facts, files: dict | None = None) -> list[Op]:
    """Every operation that brings the host to ``wanted``; [] when nothing differs.

    With ``files`` (boot_files()), first what restores the state at boot: the files
    that differ, daemon-reload for a new unit, enabling it; last, starting the unit when
    it is not active (it then finds nothing to do)."""
    if files is None:
        return live_ops(wanted, facts)
    ops = [
        Op(f"write {path}", file=(path, text, mode))
        for path, (text, mode) in files.items()
        if facts.files.get(path) != (text, mode)
    ]
    if any(op.file[0] == UNIT_PATH for op in ops):
        ops.append(_cmd("systemctl daemon-reload", "systemctl", "daemon-reload"))
    if not facts.unit_enabled:
        ops.append(_cmd(f"enable {UNIT}", "systemctl", "enable", UNIT))
    ops += live_ops(wanted, facts)
    if not facts.unit_active:
        ops.append(_cmd(f"start {UNIT}", "systemctl", "start", UNIT))
    return ops


def expect(wanted: Wanted, facts: Facts, files: dict | None = None) -> Facts:
    """The facts a read would return after plan(wanted, facts, files) ran."""
    links = {name: link for name, link in facts.links.items() if name != wanted.dr_device}
    if wanted.dr_vips:
        links[wanted.dr_device] = Link(True, frozenset(wanted.dr_vips))
    if wanted.tun_vips:
        links[TUNNEL] = Link(True, frozenset(wanted.tun_vips))
    elif TUNNEL in links:
        links[TUNNEL] = replace(links[TUNNEL], addresses=frozenset())
    after = replace(
        facts,
        links=links,
        rules=wanted.rules,
        routes=wanted.routes,
        sysctls={**facts.sysctls, **wanted.sysctls},
        modules=facts.modules | set(wanted.modules),
    )
    if files is not None:
        after = replace(after, files=dict(files), unit_enabled=True, unit_active=True)
    return after


def describe(facts: Facts) -> dict:
    """What this code owns on the host, as the module's diff shows it."""

    def digest(text):
        return None if text is None else "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:16]

    described = {
        "devices": {
            name: {"up": link.up, "addresses": sorted(link.addresses)}
            for name, link in sorted(facts.links.items())
        },
        "nat_rules": [f"{prio}: from {src}" for prio, src in sorted(facts.rules, key=str)],
        "nat_routes": sorted(
            " ".join(
                [dst]
                + ([f"via {gw}"] if gw else [])
                + ([f"dev {dev}"] if dev else [])
                + ([f"src {src}"] if src else [])
            )
            for dst, gw, dev, src in facts.routes
        ),
        "sysctls": dict(sorted(facts.sysctls.items())),
        "modules": sorted(facts.modules),
    }
    if facts.files:
        described["files"] = {
            path: None if text is None else f"{digest(text)} {mode:04o}"
            for path, (text, mode) in sorted(facts.files.items())
        }
        described["unit"] = {"enabled": facts.unit_enabled, "active": facts.unit_active}
    return described


# ---------------------------------------------------------------------------- executor


class OperationFailed(RuntimeError):
    def __init__(self, done: list[str], failed: str, reason: str, not_attempted: list[str]):
        super().__init__(f"{failed}: {reason}")
        self.done, self.failed, self.reason, self.not_attempted = (
            done,
            failed,
            reason,
            not_attempted,
        )


def execute(ops: list[Op], run, root: str = "/") -> list[str]:
    """Run ``ops`` in order; returns their texts. On the first failure raises
    OperationFailed naming what was done, what failed and what was not attempted."""
    done: list[str] = []
    for index, op in enumerate(ops):
        try:
            if op.argv:
                rc, _out, err = run(list(op.argv))
                if rc:
                    raise RuntimeError(f"{' '.join(op.argv)}: {err.strip() or f'exit {rc}'}")
            elif op.sysctl:
                sysctl.write(*op.sysctl, root=os.path.join(root, "proc/sys"))
            elif op.file:
                path, text, mode = op.file
                sysctl.write_file(os.path.join(root, path.lstrip("/")), text, mode)
        except (OSError, RuntimeError) as exc:
            raise OperationFailed(
                done, op.text, str(exc), [o.text for o in ops[index + 1 :]]
            ) from exc
        done.append(op.text)
    return done


# -------------------------------------------------------------------- the boot program


def run_command(argv: list[str]) -> tuple[int, str, str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def wait_for_address(wanted: Wanted, seconds: float, run=run_command) -> None:
    """At boot the NAT interface may get its address after this unit starts."""
    if not wanted.nat or seconds <= 0:
        return
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            links = parse_links(
                _ip_json(run, "addr", "show", "dev", wanted.nat.interface), [wanted.nat.interface]
            )
        except RuntimeError:
            links = {}
        link = links.get(wanted.nat.interface)
        if link and any(a.split("/")[0] == wanted.nat.source for a in link.addresses):
            return
        time.sleep(0.2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="Apply the LVS real server state (live only)."
    )
    parser.add_argument("command", choices=["apply"])
    parser.add_argument("--state", default=STATE_PATH, help="state file (the module's params)")
    parser.add_argument("--check", action="store_true", help="plan only, change nothing")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for addresses")
    args = parser.parse_args(argv)
    try:
        with open(args.state) as handle:
            wanted = Wanted.from_params(json.load(handle))
        if not args.check:
            wait_for_address(wanted, args.wait)
        ops = plan(wanted, read_facts(wanted, run_command))
        done = [op.text for op in ops] if args.check else execute(ops, run_command)
    except (OSError, ValueError, RuntimeError) as exc:
        print(json.dumps({"failed": True, "msg": str(exc)}))
        return 1
    print(json.dumps({"changed": bool(done), "ops": done}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
