# Copyright: (c) 2026, lvs.cluster maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Packet marks for IPVS fwmark services: facts in, operations out (stdlib only).

Two backends, probed on the host rather than guessed from its distribution:

- ``nftables``: the collection owns the table ``inet lvs_fwmark`` (one base chain
  ``prerouting``, hook prerouting, priority mangle). Needs ``nft`` and a kernel whose
  nf_tables has the inet family (which brings ip and ip6). Every change replaces the
  whole table in one transaction, with the same text that ``/etc/lvs/fwmark.nft`` holds
  for boot.
- ``iptables-legacy``: the collection owns the chain ``LVS_FWMARK`` of the mangle table
  (``iptables-legacy`` and, for IPv6 marks, ``ip6tables-legacy``) and one jump to it
  from ``PREROUTING``. Every change is one ``iptables-legacy-restore --noflush`` batch
  per family (atomic); ``/etc/lvs/fwmark.sh`` loads the same rules at boot.

When both work, nftables wins: Debian hosts run it, and iptables-legacy is there for
kernels without nf_tables ip/ip6/inet (such as Debian's user-mode-linux 6.1 kernel).
Whatever the collection owns on the backend not in use (its table, its chain, the
other backend's boot file) is removed; rules and tables of anyone else are never read
for planning and never touched.

``run(argv, data=None) -> (rc, stdout, stderr)`` is how every command is run (an
AnsibleModule's run_command fits); the planner itself runs nothing.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field

NFTABLES = "nftables"
IPTABLES = "iptables-legacy"
BACKENDS = (NFTABLES, IPTABLES)
PROTOCOLS = ("tcp", "udp", "sctp")

NFT_FAMILY = "inet"
NFT_TABLE = "lvs_fwmark"
NFT_CHAIN = "prerouting"
NFT_PROBE_TABLE = "lvs_fwmark_probe"
CHAIN = "LVS_FWMARK"
JUMP = f"-A PREROUTING -j {CHAIN}"
MARK_MAX = 2**32 - 1

BOOT_DIR = "/etc/lvs"
BOOT_FILES = {NFTABLES: "fwmark.nft", IPTABLES: "fwmark.sh"}
# the policy rules and route of the locally delivered marks, at boot (either backend)
LOCAL_BOOT_FILE = "fwmark-local.sh"
# the commands the boot unit runs, by backend ({path} is the boot file)
BOOT_COMMANDS = {NFTABLES: "/usr/sbin/nft -f {path}", IPTABLES: "/bin/sh {path}"}
# the legacy tools, by address family
LEGACY = {4: "iptables-legacy", 6: "ip6tables-legacy"}
# tables the legacy modules have registered (absent: no legacy rules can exist)
LEGACY_PROC = {4: "/proc/net/ip_tables_names", 6: "/proc/net/ip6_tables_names"}
HEADER = "Written by lvs.cluster.fwmark: packet marks for IPVS fwmark services."


class FwmarkError(Exception):
    """Bad input, a host without a backend, or a command that failed."""


@dataclass(frozen=True)
class Mark:
    """Packets to ``address`` with ``protocol`` and destination ``port`` get ``fwmark``;
    with ``interface``, only those that arrive on it.

    ``address`` is a host address (a VIP) or a network ("198.18.0.0/15"): traffic the
    host forwards, which IPVS sees only when the mark is delivered locally
    (``LocalDelivery``), as a transparent cache cluster's director does."""

    fwmark: int
    address: str
    protocol: str
    port: str  # "554" or "6970:6999"
    interface: str | None = None

    @property
    def family(self) -> int:
        return 6 if ":" in self.address else 4

    @property
    def ports(self) -> tuple[int, int]:
        first, _, last = self.port.partition(":")
        return int(first), int(last or first)

    @property
    def prefixed(self) -> str:
        """The address with its prefix length, as iptables prints it."""
        if "/" in self.address:
            return self.address
        return f"{self.address}/{128 if self.family == 6 else 32}"

    def nft(self) -> str:
        """The rule as ``nft list`` prints it."""
        ip = "ip6" if self.family == 6 else "ip"
        first, last = self.ports
        port = str(first) if first == last else f"{first}-{last}"
        iif = f'iifname "{self.interface}" ' if self.interface else ""
        return (
            f"{iif}{ip} daddr {self.address} {self.protocol} dport {port} "
            f"meta mark set 0x{self.fwmark:08x}"
        )

    def iptables(self) -> str:
        """The rule as ``iptables-legacy -t mangle -S`` prints it."""
        iif = f" -i {self.interface}" if self.interface else ""
        return (
            f"-A {CHAIN} -d {self.prefixed}{iif} -p {self.protocol} -m {self.protocol} "
            f"--dport {self.port} -j MARK --set-xmark 0x{self.fwmark:x}/0xffffffff"
        )

    def describe(self) -> str:
        iif = f" from {self.interface}" if self.interface else ""
        return f"{self.protocol} {self.address} port {self.port}{iif} mark {self.fwmark}"


def _address(text: str) -> str:
    """A host address or a network, canonical: "192.0.2.1", "198.18.0.0/15"."""
    if "/" not in text:
        return ipaddress.ip_address(text).compressed
    network = ipaddress.ip_network(text)  # strict: host bits set is an error
    if network.prefixlen == network.max_prefixlen:
        return network.network_address.compressed
    return network.compressed


def parse_marks(rules: list[dict]) -> list[Mark]:
    """Wanted marks from ``[{fwmark, address, protocol, port, interface?}]``, checked and
    made canonical (compressed IPv6, ``"N:N"`` as ``"N"``, a /32 as its address),
    duplicates dropped, order kept."""
    marks: list[Mark] = []
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        try:
            fwmark = int(rule["fwmark"])
            address = _address(str(rule["address"]).strip())
            protocol = str(rule["protocol"]).lower()
            port = str(rule["port"]).strip()
        except KeyError as exc:
            raise FwmarkError(f"{where}: {exc.args[0]} is required") from None
        except (TypeError, ValueError) as exc:
            raise FwmarkError(f"{where}: {exc}") from None
        interface = rule.get("interface") or None
        if interface is not None and not _interface_ok(str(interface)):
            raise FwmarkError(f"{where}: interface {interface!r} is not an interface name")
        if not 1 <= fwmark <= MARK_MAX:
            raise FwmarkError(f"{where}: fwmark must be from 1 to {MARK_MAX}, got {fwmark}")
        if protocol not in PROTOCOLS:
            raise FwmarkError(f"{where}: protocol must be one of {', '.join(PROTOCOLS)}")
        first, sep, last = port.partition(":")
        try:
            lo, hi = int(first), int(last if sep else first)
        except ValueError:
            raise FwmarkError(f'{where}: port must be "N" or "FIRST:LAST", got {port!r}') from None
        if not (1 <= lo <= hi <= 65535):
            raise FwmarkError(f"{where}: port {port!r} is not within 1..65535 in order")
        port = str(lo) if lo == hi else f"{lo}:{hi}"
        mark = Mark(fwmark, address, protocol, port, str(interface) if interface else None)
        if mark not in marks:
            marks.append(mark)
    return marks


def _interface_ok(name: str) -> bool:
    """A Linux interface name (at most 15 bytes, no blank, slash or quote)."""
    return 0 < len(name) <= 15 and not any(c in name for c in " /\"'\t\n:")


# ---------------------------------------------------------------------------- facts


@dataclass
class LegacyChain:
    """What ``iptables-legacy -t mangle -S`` shows of the collection's chain."""

    exists: bool = False
    rules: list[str] = field(default_factory=list)  # -A LVS_FWMARK ... lines, in order
    jumps: int = 0  # "-A PREROUTING -j LVS_FWMARK" lines

    @classmethod
    def parse(cls, listing: str) -> LegacyChain:
        chain = cls()
        for line in listing.splitlines():
            line = line.strip()
            if line == f"-N {CHAIN}":
                chain.exists = True
            elif line.startswith(f"-A {CHAIN} "):
                chain.rules.append(line)
            elif line == JUMP:
                chain.jumps += 1
        return chain

    @property
    def present(self) -> bool:
        return self.exists or self.jumps > 0


@dataclass
class NftTable:
    """The collection's nftables table as ``nft -j list table`` shows it."""

    rules: list[Mark | None]  # None: a rule this collection does not write
    shape_ok: bool  # exactly our base chain, nothing else
    listing: list[str]  # the rules, one a line, for the diff
    notes: list[str] = field(default_factory=list)  # what else the table holds

    @classmethod
    def parse(cls, text: str) -> NftTable:
        try:
            items = json.loads(text)["nftables"]
        except (ValueError, KeyError, TypeError) as exc:
            raise FwmarkError(f"cannot read `nft -j list table` output: {exc}") from None
        chains, others, rules, listing = [], 0, [], []
        for item in items:
            if "metainfo" in item or "table" in item:
                continue
            if "chain" in item:
                chains.append(item["chain"])
            elif "rule" in item:
                mark = _nft_mark(item["rule"])
                rules.append(mark)
                listing.append(
                    mark.nft()
                    if mark
                    else f"# not written here (handle {item['rule'].get('handle')}): "
                    + json.dumps(item["rule"].get("expr"), sort_keys=True)
                )
            else:
                others += 1
        wanted_chain = {
            "name": NFT_CHAIN,
            "type": "filter",
            "hook": "prerouting",
            "prio": -150,
            "policy": "accept",
        }
        shape_ok = (
            not others
            and len(chains) == 1
            and all(chains[0].get(k) == v for k, v in wanted_chain.items())
            and all(r is not None for r in rules)
        )
        notes = []
        if not shape_ok:
            names = ", ".join(str(c.get("name")) for c in chains) or "none"
            notes.append(f"# chains: {names}; other objects: {others}")
        return cls(rules, shape_ok, listing, notes)


def _nft_mark(rule: dict) -> Mark | None:
    """The Mark a rule of ours encodes, None for any other rule."""
    try:
        if rule.get("chain") != NFT_CHAIN:
            return None
        exprs = list(rule["expr"])
        interface = None
        if len(exprs) == 4:
            iif = exprs.pop(0)["match"]
            if iif["op"] != "==" or iif["left"] != {"meta": {"key": "iifname"}}:
                return None
            interface = iif["right"]
            if not isinstance(interface, str):
                return None
        addr, dport, mangle = exprs
        a, p, m = addr["match"], dport["match"], mangle["mangle"]
        if a["op"] != "==" or p["op"] != "==":
            return None
        ip, field_ = a["left"]["payload"]["protocol"], a["left"]["payload"]["field"]
        proto, pfield = p["left"]["payload"]["protocol"], p["left"]["payload"]["field"]
        if field_ != "daddr" or ip not in ("ip", "ip6") or pfield != "dport":
            return None
        if proto not in PROTOCOLS or m["key"] != {"meta": {"key": "mark"}}:
            return None
        right = p["right"]
        if isinstance(right, dict):
            lo, hi = right["range"]
            port = f"{lo}:{hi}"
        else:
            port = str(int(right))
        dest = a["right"]
        if isinstance(dest, dict):
            dest = f"{dest['prefix']['addr']}/{int(dest['prefix']['len'])}"
        address = ipaddress.ip_network(dest)
        if (address.version == 6) != (ip == "ip6"):
            return None
        rule_ = {"fwmark": m["value"], "address": dest, "protocol": proto, "port": port}
        return parse_marks([{**rule_, "interface": interface}])[0]
    except (KeyError, TypeError, ValueError, FwmarkError, AttributeError):
        return None


@dataclass(frozen=True)
class LocalDelivery:
    """Marks whose packets the host delivers to itself although they are addressed to
    others (IPVS schedules only local packets): one policy rule per mark, priority
    ``priority``, looking up ``table``, whose one route is ``local default dev lo``."""

    marks: tuple[int, ...] = ()
    table: int = 101
    priority: int = 101

    def rule(self, fwmark: int) -> str:
        return f"priority {self.priority} fwmark 0x{fwmark:x} lookup {self.table}"

    def wanted_rules(self) -> list[tuple[int, int]]:
        return [(self.priority, m) for m in self.marks]

    def wanted_routes(self) -> list[str]:
        return [LOCAL_ROUTE] if self.marks else []


LOCAL_ROUTE = "local default dev lo"


@dataclass
class LocalRouting:
    """The policy rules that look up the table of local delivery, and its routes."""

    rules: list[tuple[int, int | None]]  # (priority, fwmark or None for another rule)
    routes: list[str]  # "TYPE DST dev DEV", as LOCAL_ROUTE

    @classmethod
    def parse(cls, rules_json: str, routes_json: str, table: int) -> LocalRouting:
        try:
            rules = [
                (int(r["priority"]), int(r["fwmark"], 16) if "fwmark" in r else None)
                for r in json.loads(rules_json or "[]")
                if str(r.get("table")) == str(table)
            ]
            routes = [
                f"{r.get('type', 'unicast')} {r['dst']} dev {r.get('dev')}"
                for r in json.loads(routes_json or "[]")
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise FwmarkError(f"cannot read `ip -j rule/route` output: {exc}") from None
        return cls(sorted(rules, key=str), routes)

    def listing(self, table: int) -> list[str]:
        rules = [
            f"ip rule: priority {p} fwmark 0x{m:x} lookup {table}"
            if m is not None
            else f"ip rule: priority {p} (not a mark) lookup {table}"
            for p, m in self.rules
        ]
        return rules + [f"ip route table {table}: {r}" for r in self.routes]


def read_local(run, delivery: LocalDelivery) -> LocalRouting:
    rc, rules, err = run(["ip", "-j", "-4", "rule", "show"])
    if rc:
        raise FwmarkError(f"cannot list the policy rules: {_err(rc, rules, err)}")
    rc, routes, err = run(["ip", "-j", "-4", "route", "show", "table", str(delivery.table)])
    if rc and "table does not exist" in (err or ""):
        routes = "[]"  # a table comes into being with its first route
    elif rc:
        raise FwmarkError(f"cannot list table {delivery.table}: {_err(rc, routes, err)}")
    return LocalRouting.parse(rules, routes, delivery.table)


def render_local(delivery: LocalDelivery) -> str:
    """The boot script of the local delivery: the same rules and route as live."""
    # idempotent: a rerun of the unit adds no second rule
    rules = "".join(
        f"ip -4 rule del {delivery.rule(m)} 2>/dev/null\nip -4 rule add {delivery.rule(m)}\n"
        for m in delivery.marks
    )
    return (
        f"#!/bin/sh\n# {HEADER}\n"
        "# Marked packets delivered locally; run at boot by lvs-director.service.\n"
        f"PATH=/usr/sbin:/usr/bin:/sbin:/bin\n{rules}"
        f"ip -4 route replace {LOCAL_ROUTE} table {delivery.table}\n"
    )


def _plan_local(delivery: LocalDelivery, facts: Facts, result: Plan) -> None:
    have = facts.local or LocalRouting([], [])
    table = str(delivery.table)
    result.before += have.listing(delivery.table)
    wanted = LocalRouting(sorted(delivery.wanted_rules(), key=str), delivery.wanted_routes())
    result.after += wanted.listing(delivery.table)
    for prio, mark in have.rules:
        if (prio, mark) in wanted.rules:
            continue
        sel = ["fwmark", f"0x{mark:x}"] if mark is not None else []
        result.operations.append(f"delete policy rule {prio} of table {table}")
        result.commands.append(
            Command(["ip", "-4", "rule", "del", "priority", str(prio), *sel, "lookup", table])
        )
    for prio, mark in wanted.rules:
        if (prio, mark) not in have.rules:
            result.operations.append(f"deliver mark {mark} locally (policy rule {prio})")
            result.commands.append(
                Command(["ip", "-4", "rule", "add", *delivery.rule(mark).split()])
            )
    if have.routes != wanted.routes:
        if have.routes:
            result.operations.append(f"flush table {table}")
            result.commands.append(Command(["ip", "-4", "route", "flush", "table", table]))
        if wanted.routes:
            result.operations.append(f"add route {LOCAL_ROUTE} (table {table})")
            result.commands.append(
                Command(["ip", "-4", "route", "add", *LOCAL_ROUTE.split(), "table", table])
            )
    content = render_local(delivery) if delivery.marks else None
    have_file = facts.boot_files.get(LOCAL_BOOT_FILE)
    if content is not None and have_file != content:
        result.write[LOCAL_BOOT_FILE] = content
        result.operations.append(f"{'write' if have_file is None else 'update'} {LOCAL_BOOT_FILE}")
    elif content is None and have_file is not None:
        result.remove.append(LOCAL_BOOT_FILE)
        result.operations.append(f"remove {LOCAL_BOOT_FILE}")


@dataclass
class Facts:
    """What the host supports and what the collection owns there now.

    ``nft``/``legacy`` hold the probe's verdict: None when the backend works, else why
    not. ``nft_table`` is None when the table is absent or nft does not work;
    ``legacy_chains`` has an entry per family whose legacy mangle table was read."""

    nft: str | None = "not probed"
    legacy: dict[int, str | None] = field(
        default_factory=lambda: {4: "not probed", 6: "not probed"}
    )
    nft_table: NftTable | None = None
    legacy_chains: dict[int, LegacyChain] = field(default_factory=dict)
    boot_files: dict[str, str | None] = field(default_factory=dict)  # name -> content
    requested: str = "auto"  # the backend asked for
    local: LocalRouting | None = None  # read when marks are delivered locally, or were

    def missing(self) -> str:
        """Why no backend can be used, naming what is missing."""
        if self.requested == NFTABLES:
            return f"backend nftables was asked for, but {self.nft}"
        if self.requested == IPTABLES:
            return f"backend iptables-legacy was asked for, but {self.legacy[4]}"
        return missing_message(self.nft, self.legacy[4])


# ---------------------------------------------------------------------------- probe


def _err(rc: int, out: str, err: str) -> str:
    """The line of a tool's complaint that says what is wrong (nft follows its error
    with the input line and a line of carets)."""
    lines = [line.strip() for line in (err or out or "").splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    return (errors or lines or [f"exit status {rc}"])[0]


def probe_nft(run) -> str | None:
    """None when nft can create a table in the inet family (checked in one transaction
    that creates and deletes a throwaway table: nothing is left, nothing changes)."""
    batch = (
        f"add table {NFT_FAMILY} {NFT_PROBE_TABLE}\ndelete table {NFT_FAMILY} {NFT_PROBE_TABLE}\n"
    )
    rc, out, err = run(["nft", "-f", "-"], data=batch)
    if rc == 127:
        return "nft is not installed (package nftables)"
    if rc:
        return f"nft cannot create an {NFT_FAMILY} table: {_err(rc, out, err)}"
    return None


def read_legacy(run, family: int) -> tuple[str | None, LegacyChain | None]:
    """(why the legacy tool does not work or None, the collection's chain)."""
    tool = LEGACY[family]
    rc, out, err = run([tool, "-w", "-t", "mangle", "-S"])
    if rc == 127:
        return f"{tool} is not installed (package iptables)", None
    if rc:
        return f"{tool} cannot list the mangle table: {_err(rc, out, err)}", None
    return None, LegacyChain.parse(out)


def runner(module):
    """run(argv, data=None) -> (rc, out, err) from an AnsibleModule (duck-typed: no
    Ansible import); rc 127 when the tool is not installed."""

    def run(argv, data=None):
        path = module.get_bin_path(argv[0], opt_dirs=["/usr/sbin", "/sbin"])
        if path is None:
            return 127, "", f"{argv[0]}: command not found"
        return module.run_command([path, *argv[1:]], data=data, binary_data=True)

    return run


def probe_backend(run) -> tuple[str | None, str]:
    """The backend this host would use and why; (None, what is missing) for neither.
    Reads only; a backend found working is not probed further."""
    backend, reason, _ = probe_details(run)
    return backend, reason


def probe_details(run) -> tuple[str | None, str, dict]:
    """probe_backend with each backend's verdict (None: works; else why not)."""
    details = {"nftables": probe_nft(run), "iptables_legacy": "not probed"}
    if details["nftables"] is None:
        return NFTABLES, f"nft can create an {NFT_FAMILY} table", details
    details["iptables_legacy"], _ = read_legacy(run, 4)
    if details["iptables_legacy"] is None:
        reason = f"{details['nftables']}; iptables-legacy can list the mangle table"
        return IPTABLES, reason, details
    return None, missing_message(details["nftables"], details["iptables_legacy"]), details


def missing_message(nft: str | None, legacy: str | None) -> str:
    return (
        f"no packet-mark backend on this host: {nft}; {legacy}. Marks need nftables "
        f"(nft and a kernel with nf_tables inet: CONFIG_NF_TABLES_INET) or iptables-legacy "
        f"(package iptables; kernel modules ip_tables, iptable_mangle, xt_mark and the "
        f"protocol matches)"
    )


def read_facts(
    run,
    marks: list[Mark],
    backend: str = "auto",
    boot_dir: str = BOOT_DIR,
    read_file=None,
    delivery: LocalDelivery | None = None,
) -> tuple[str | None, Facts]:
    """Probe and read the host: (the backend to use or None, the facts).

    ``backend`` is ``auto`` (nftables when it works, else iptables-legacy) or one of
    BACKENDS. A legacy table is read only where it is needed: as the backend, or to
    clean up when its kernel module is loaded already (so an nftables host never gets
    ip_tables loaded by a probe)."""
    if backend not in ("auto", *BACKENDS):
        raise FwmarkError(f"unknown backend {backend!r}")
    read_file = read_file or _read_file
    facts = Facts(requested=backend)
    facts.nft = probe_nft(run)
    legacy_possible = backend == IPTABLES or (backend == "auto" and facts.nft is not None)
    families = {m.family for m in marks}
    for family in (4, 6):
        loaded = "mangle" in (read_file(LEGACY_PROC[family]) or "").split()
        if loaded or (legacy_possible and (family == 4 or family in families)):
            facts.legacy[family], chain = read_legacy(run, family)
            if chain is not None:
                facts.legacy_chains[family] = chain
    if backend != IPTABLES and facts.nft is None:
        use = NFTABLES
    elif legacy_possible and facts.legacy[4] is None:
        use = IPTABLES
    else:
        use = None
    if facts.nft is None:
        rc, out, err = run(["nft", "-j", "list", "table", NFT_FAMILY, NFT_TABLE])
        if rc == 0:
            facts.nft_table = NftTable.parse(out)
        elif "No such file or directory" not in (err + out):
            raise FwmarkError(f"cannot list table {NFT_FAMILY} {NFT_TABLE}: {_err(rc, out, err)}")
    for name in (*BOOT_FILES.values(), LOCAL_BOOT_FILE):
        facts.boot_files[name] = read_file(f"{boot_dir}/{name}")
    # the routing is read when it is wanted or its boot file says it was set up
    delivery = delivery or LocalDelivery()
    if delivery.marks or facts.boot_files[LOCAL_BOOT_FILE] is not None:
        facts.local = read_local(run, delivery)
    return use, facts


def _read_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------------------- render


def render_nft(marks: list[Mark]) -> str:
    """The nft script that replaces the collection's table in one transaction (the
    first two lines make it load whether or not the table exists)."""
    rules = "".join(f"\t\t{m.nft()}\n" for m in marks)
    return (
        f"#!/usr/sbin/nft -f\n# {HEADER}\n# Loaded at boot by lvs-director.service.\n"
        f"table {NFT_FAMILY} {NFT_TABLE}\ndelete table {NFT_FAMILY} {NFT_TABLE}\n"
        f"table {NFT_FAMILY} {NFT_TABLE} {{\n\tchain {NFT_CHAIN} {{\n"
        f"\t\ttype filter hook prerouting priority mangle; policy accept;\n{rules}"
        "\t}\n}\n"
    )


def _restore(rules: list[str], jump_ops: list[str]) -> str:
    """iptables-legacy-restore --noflush input: declaring the chain creates it or
    flushes it, so the chain ends up holding exactly ``rules``."""
    body = "".join(f"{r}\n" for r in rules + jump_ops)
    return f"*mangle\n:{CHAIN} - [0:0]\n{body}COMMIT\n"


def render_legacy(marks: list[Mark]) -> str:
    """The boot script for iptables-legacy: the chain's rules per family, then the jump
    from PREROUTING unless it is there (it survives a flush of the chain)."""
    parts = [
        "#!/bin/sh\n",
        f"# {HEADER}\n# Run at boot by lvs-director.service.\n",
        "set -e\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n",
    ]
    for family in (4, 6):
        rules = [m.iptables() for m in marks if m.family == family]
        if not rules:
            continue
        tool = LEGACY[family]
        parts.append(f"{tool}-restore -w --noflush <<'EOF'\n{_restore(rules, [])}EOF\n")
        parts.append(
            f"{tool} -w -t mangle -C PREROUTING -j {CHAIN} 2>/dev/null ||\n"
            f"  {tool} -w -t mangle -I PREROUTING 1 -j {CHAIN}\n"
        )
    return "".join(parts)


def render_boot(marks: list[Mark], backend: str) -> str:
    return render_nft(marks) if backend == NFTABLES else render_legacy(marks)


# ---------------------------------------------------------------------------- plan


@dataclass
class Command:
    argv: list[str]
    data: str | None = None  # stdin

    def __str__(self) -> str:
        text = " ".join(self.argv)
        return f"{text} <<EOF\n{self.data}EOF" if self.data is not None else text


@dataclass
class Plan:
    backend: str | None
    operations: list[str] = field(default_factory=list)  # what changes, for people
    commands: list[Command] = field(default_factory=list)  # what is run, in order
    write: dict[str, str] = field(default_factory=dict)  # boot file name -> content
    remove: list[str] = field(default_factory=list)  # boot file names
    before: list[str] = field(default_factory=list)  # live rules of ours, for the diff
    after: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.commands or self.write or self.remove)

    @property
    def boot_file(self) -> str | None:
        """The boot file's name (in the boot folder), None without marks."""
        return BOOT_FILES[self.backend] if self.backend else None


def _rule_ops(live: list[str], wanted: list[str], describe, where: str) -> list[str]:
    ops = [f"add {describe(r)} ({where})" for r in wanted if r not in live]
    ops += [f"delete {describe(r)} ({where})" for r in live if r not in wanted]
    if not ops and live != wanted:
        ops.append(f"reorder the rules ({where})")
    return ops


def _describe_iptables(marks: list[Mark]):
    by_line = {m.iptables(): m for m in marks}

    def describe(line: str) -> str:
        mark = by_line.get(line)
        return mark.describe() if mark else f"rule not written here: {line}"

    return describe


def plan(
    marks: list[Mark], use: str | None, facts: Facts, delivery: LocalDelivery | None = None
) -> Plan:
    """The operations that make the host's marks, live and at boot, equal ``marks``
    with backend ``use`` (from read_facts), and its local delivery ``delivery``.
    Refuses marks without a backend, and local delivery of marks that are not set."""
    if marks and use is None:
        raise FwmarkError(facts.missing())
    delivery = delivery or LocalDelivery()
    unset = sorted(set(delivery.marks) - {m.fwmark for m in marks})
    if unset:
        raise FwmarkError(f"local delivery of marks no rule sets: {unset}")
    families = {m.family for m in marks}
    if use == IPTABLES and 6 in families and facts.legacy[6] is not None:
        raise FwmarkError(
            f"IPv6 marks need ip6tables-legacy, which does not work here: {facts.legacy[6]}"
        )
    result = Plan(backend=use if marks else None)
    _plan_nft(marks if use == NFTABLES else [], facts, result)
    for family in (4, 6):
        wanted = [m for m in marks if m.family == family] if use == IPTABLES else []
        _plan_legacy(family, wanted, facts, result)
    # boot files: the one of the backend in use, with exactly these marks; no other
    for backend, name in BOOT_FILES.items():
        have = facts.boot_files.get(name)
        if marks and backend == use:
            content = render_boot(marks, use)
            if have != content:
                result.write[name] = content
                result.operations.append(f"{'write' if have is None else 'update'} {name}")
        elif have is not None:
            result.remove.append(name)
            result.operations.append(f"remove {name}")
    if delivery.marks or facts.local is not None or facts.boot_files.get(LOCAL_BOOT_FILE):
        _plan_local(delivery, facts, result)
    return result


def _plan_nft(marks: list[Mark], facts: Facts, result: Plan) -> None:
    table = facts.nft_table
    live = table.listing if table else []
    wanted = [m.nft() for m in marks]
    notes = table.notes if table else []
    result.before += [f"nft {NFT_FAMILY} {NFT_TABLE}: {r}" for r in notes + live]
    result.after += [f"nft {NFT_FAMILY} {NFT_TABLE}: {r}" for r in wanted]
    where = f"nft table {NFT_FAMILY} {NFT_TABLE}"
    if not marks:
        if table is not None:
            result.operations += [f"delete {_describe_nft(r)} ({where})" for r in live]
            result.operations.append(f"delete the {where}")
            result.commands.append(Command(["nft", "delete", "table", NFT_FAMILY, NFT_TABLE]))
        return
    if table is not None and table.shape_ok and table.rules == marks:
        return
    if table is None:
        result.operations.append(f"create the {where}")
    elif not table.shape_ok:
        result.operations.append(f"rewrite the {where} ({table.notes[0][2:]})")
    result.operations += _rule_ops(live, wanted, _describe_nft, where)
    result.commands.append(Command(["nft", "-f", "-"], render_nft(marks)))


def _describe_nft(line: str) -> str:
    return f"rule {line}" if not line.startswith("#") else line[2:]


def _plan_legacy(family: int, marks: list[Mark], facts: Facts, result: Plan) -> None:
    chain = facts.legacy_chains.get(family)
    tool = LEGACY[family]
    live = (chain.rules + [JUMP] * chain.jumps) if chain else []
    wanted = [m.iptables() for m in marks] + ([JUMP] if marks else [])
    result.before += [f"{tool} -t mangle: {r}" for r in live]
    result.after += [f"{tool} -t mangle: {r}" for r in wanted]
    where = f"{tool} mangle {CHAIN}"
    if not marks:
        if chain is not None and chain.present:
            ops = [f"-D PREROUTING -j {CHAIN}"] * chain.jumps
            if chain.exists:
                ops += [f"-F {CHAIN}", f"-X {CHAIN}"]
            describe = _describe_iptables([])
            result.operations += [f"delete {describe(r)} ({where})" for r in chain.rules]
            result.operations.append(f"delete the chain {CHAIN} and its jump ({tool})")
            result.commands.append(
                Command(
                    [f"{tool}-restore", "-w", "--noflush"],
                    "*mangle\n" + "".join(f"{o}\n" for o in ops) + "COMMIT\n",
                )
            )
        return
    if chain is None:
        raise FwmarkError(f"{tool} was not read")  # read_facts reads it for its backend
    rules = [m.iptables() for m in marks]
    jump_ops = []
    if chain.jumps == 0:
        jump_ops.append(f"-I PREROUTING 1 -j {CHAIN}")
        result.operations.append(f"add the jump from PREROUTING to {CHAIN} ({tool})")
    elif chain.jumps > 1:
        jump_ops += [f"-D PREROUTING -j {CHAIN}"] * (chain.jumps - 1)
        result.operations.append(f"delete {chain.jumps - 1} extra jumps to {CHAIN} ({tool})")
    if not chain.exists:
        result.operations.append(f"create the chain {CHAIN} ({tool})")
    if chain.rules == rules and not jump_ops and chain.exists:
        return
    result.operations += _rule_ops(chain.rules, rules, _describe_iptables(marks), where)
    result.commands.append(
        Command([f"{tool}-restore", "-w", "--noflush"], _restore(rules, jump_ops))
    )
