"""Packet-mark planner as tables: host facts + wanted marks -> operations and commands.

The listings in fixtures/fwmark/ are real output (nft 1.0.6, iptables 1.8.9 legacy,
Debian 12) captured in a private network namespace:
  nft_three_marks.json   `nft -j list table inet lvs_fwmark` after loading render_nft(THREE)
  nft_foreign.json       the same table with a chain and a rule this collection never writes
  iptables_mangle.txt    `iptables-legacy -t mangle -S`: the chain with RTSP's two marks and
                         an undeclared 192.0.2.60 mark, the jump, and foreign rules in
                         PREROUTING and OUTPUT
  ip6tables_mangle.txt   `ip6tables-legacy -t mangle -S` with one IPv6 mark
  nft_transparent.json   the table holding TRANSPARENT (a network from an interface) and
                         RTSP[0]
The `ip -j` listings of the local delivery below are real output of iproute2 6.1.
"""

from pathlib import Path

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils import fwmark as fw
from ansible_collections.lvs.cluster.plugins.module_utils.fwmark import (
    IPTABLES,
    NFTABLES,
    Facts,
    FwmarkError,
    LegacyChain,
    NftTable,
    parse_marks,
    plan,
    probe_backend,
    read_facts,
)

FIXTURES = Path(__file__).parent / "fixtures" / "fwmark"
NFT_THREE = (FIXTURES / "nft_three_marks.json").read_text()
NFT_FOREIGN = (FIXTURES / "nft_foreign.json").read_text()
IPT = (FIXTURES / "iptables_mangle.txt").read_text()
IP6T = (FIXTURES / "ip6tables_mangle.txt").read_text()

RTSP = [
    {"fwmark": 1, "address": "192.0.2.50", "protocol": "tcp", "port": "554"},
    {"fwmark": 1, "address": "192.0.2.50", "protocol": "udp", "port": "6970:6999"},
]
V6 = {"fwmark": 2, "address": "2001:db8:0::50", "protocol": "tcp", "port": 554}
# what the nft fixture was loaded from
THREE = [
    RTSP[0],
    {**RTSP[1], "fwmark": 1},
    {"fwmark": 4294967295, "address": "2001:db8::50", "protocol": "sctp", "port": "9"},
]
IPT_RULES = [
    "-A LVS_FWMARK -d 192.0.2.50/32 -p tcp -m tcp --dport 554 -j MARK --set-xmark 0x1/0xffffffff",
    "-A LVS_FWMARK -d 192.0.2.50/32 -p udp -m udp --dport 6970:6999 -j MARK --set-xmark"
    " 0x1/0xffffffff",
]
UNDECLARED = (
    "-A LVS_FWMARK -d 192.0.2.60/32 -p tcp -m tcp --dport 80 -j MARK --set-xmark 0x9/0xffffffff"
)


def legacy_facts(v4=None, v6=None, boot=None, v6_works=True):
    """Facts of a host where nft does not work (the lab guests) and iptables-legacy does."""
    facts = Facts(
        nft="nft cannot create an inet table: Error: Operation not supported",
        legacy={4: None, 6: None if v6_works else "ip6tables-legacy is not installed"},
        boot_files={"fwmark.nft": None, "fwmark.sh": None, **(boot or {})},
    )
    facts.legacy_chains[4] = LegacyChain.parse(v4 or "")
    if v6_works:
        facts.legacy_chains[6] = LegacyChain.parse(v6 or "")
    return facts


def nft_facts(table=None, legacy=None, boot=None):
    facts = Facts(
        nft=None,
        nft_table=NftTable.parse(table) if table else None,
        boot_files={"fwmark.nft": None, "fwmark.sh": None, **(boot or {})},
    )
    if legacy is not None:
        facts.legacy = {4: None, 6: "not probed"}
        facts.legacy_chains[4] = LegacyChain.parse(legacy)
    return facts


TRANSPARENT = {
    "fwmark": 1,
    "address": "198.18.0.0/15",
    "protocol": "tcp",
    "port": "80",
    "interface": "eth0",
}


def marks(*rules):
    return parse_marks(list(rules))


def boot(backend, rules):
    return {fw.BOOT_FILES[backend]: fw.render_boot(marks(*rules), backend)}


# ---------------------------------------------------------------- parsing the wanted marks


def test_wanted_marks_are_canonical_and_deduplicated():
    got = marks(*RTSP, V6, V6, {**RTSP[0], "port": "554:554"})
    assert [(m.fwmark, m.address, m.protocol, m.port, m.family) for m in got] == [
        (1, "192.0.2.50", "tcp", "554", 4),
        (1, "192.0.2.50", "udp", "6970:6999", 4),
        (2, "2001:db8::50", "tcp", "554", 6),
    ]
    assert got[1].iptables() == IPT_RULES[1]
    assert got[1].nft() == "ip daddr 192.0.2.50 udp dport 6970-6999 meta mark set 0x00000001"
    assert got[2].iptables().startswith("-A LVS_FWMARK -d 2001:db8::50/128 -p tcp")


@pytest.mark.parametrize(
    "rule, message",
    [
        ({**RTSP[0], "fwmark": 0}, "fwmark must be from 1 to 4294967295"),
        ({**RTSP[0], "fwmark": 2**32}, "fwmark must be from 1"),
        ({**RTSP[0], "address": "192.0.2.1/24"}, "has host bits set"),
        ({**RTSP[0], "address": "192.0.2.0/33"}, "does not appear to be an IPv4 or IPv6 network"),
        ({**RTSP[0], "interface": "eth 0"}, "'eth 0' is not an interface name"),
        ({**RTSP[0], "interface": "a-very-long-name0"}, "is not an interface name"),
        ({**RTSP[0], "protocol": "icmp"}, "protocol must be one of tcp, udp, sctp"),
        ({**RTSP[0], "port": "0"}, "not within 1..65535"),
        ({**RTSP[0], "port": "7000:6970"}, "not within 1..65535 in order"),
        ({**RTSP[0], "port": "http"}, 'port must be "N" or "FIRST:LAST"'),
        ({"fwmark": 1, "address": "192.0.2.50", "protocol": "tcp"}, "port is required"),
    ],
)
def test_bad_marks_are_refused(rule, message):
    with pytest.raises(FwmarkError, match=message):
        parse_marks([rule])


# ---------------------------------------------------------------- reading the listings


def test_a_network_from_an_interface_is_written_as_the_tools_print_it():
    (mark,) = marks(TRANSPARENT)
    assert mark.iptables() == (
        "-A LVS_FWMARK -d 198.18.0.0/15 -i eth0 -p tcp -m tcp --dport 80 "
        "-j MARK --set-xmark 0x1/0xffffffff"
    )  # as `iptables-legacy -t mangle -S` printed the rule added with -i, -d, --dport
    assert mark.nft() == (
        'iifname "eth0" ip daddr 198.18.0.0/15 tcp dport 80 meta mark set 0x00000001'
    )
    # a /32 is its address, and without an interface the rule is the plain VIP one
    (host,) = marks({**RTSP[0], "address": "192.0.2.50/32"})
    assert host == marks(RTSP[0])[0] and host.interface is None
    table = NftTable.parse((FIXTURES / "nft_transparent.json").read_text())
    assert table.shape_ok and table.rules == marks(TRANSPARENT, RTSP[0])


def test_legacy_listing_keeps_only_the_collections_chain():
    chain = LegacyChain.parse(IPT)
    assert chain.exists and chain.jumps == 1
    assert chain.rules == [*IPT_RULES, UNDECLARED]  # the OUTPUT and PREROUTING rules are not ours


def test_nft_listing_is_read_back_into_the_marks_it_was_made_from():
    table = NftTable.parse(NFT_THREE)
    assert table.shape_ok and table.rules == marks(*THREE)
    foreign = NftTable.parse(NFT_FOREIGN)
    assert not foreign.shape_ok
    assert foreign.rules[:3] == marks(*THREE) and foreign.rules[3] is None
    assert foreign.notes == ["# chains: prerouting, other; other objects: 0"]


# ---------------------------------------------------------------- planning

PLAN_CASES = [
    # (id, wanted, facts, expected operations, expected command argv[0]s)
    ("legacy: nothing yet", RTSP, legacy_facts(),
     ["add the jump from PREROUTING to LVS_FWMARK (iptables-legacy)",
      "create the chain LVS_FWMARK (iptables-legacy)",
      "add tcp 192.0.2.50 port 554 mark 1 (iptables-legacy mangle LVS_FWMARK)",
      "add udp 192.0.2.50 port 6970:6999 mark 1 (iptables-legacy mangle LVS_FWMARK)",
      "write fwmark.sh"],
     ["iptables-legacy-restore"]),
    ("legacy: no-op", RTSP,
     legacy_facts("-N LVS_FWMARK\n-A PREROUTING -j LVS_FWMARK\n" + "\n".join(IPT_RULES),
                  boot=boot(IPTABLES, RTSP)),
     [], []),
    ("legacy: an undeclared mark goes, foreign rules stay", RTSP,
     legacy_facts(IPT, boot=boot(IPTABLES, RTSP)),
     ["delete rule not written here: " + UNDECLARED + " (iptables-legacy mangle LVS_FWMARK)"],
     ["iptables-legacy-restore"]),
    ("legacy: only the boot file is stale", RTSP[:1],
     legacy_facts("-N LVS_FWMARK\n-A PREROUTING -j LVS_FWMARK\n" + IPT_RULES[0],
                  boot=boot(IPTABLES, RTSP)),
     ["update fwmark.sh"], []),
    ("legacy: the jump was lost (mangle flushed), the chain kept", RTSP,
     legacy_facts("-N LVS_FWMARK\n", boot=boot(IPTABLES, RTSP)),
     ["add the jump from PREROUTING to LVS_FWMARK (iptables-legacy)",
      "add tcp 192.0.2.50 port 554 mark 1 (iptables-legacy mangle LVS_FWMARK)",
      "add udp 192.0.2.50 port 6970:6999 mark 1 (iptables-legacy mangle LVS_FWMARK)"],
     ["iptables-legacy-restore"]),
    ("legacy: two jumps, one goes", RTSP,
     legacy_facts("-N LVS_FWMARK\n-A PREROUTING -j LVS_FWMARK\n-A PREROUTING -j LVS_FWMARK\n"
                  + "\n".join(IPT_RULES), boot=boot(IPTABLES, RTSP)),
     ["delete 1 extra jumps to LVS_FWMARK (iptables-legacy)"], ["iptables-legacy-restore"]),
    ("legacy: same rules, other order", RTSP[::-1],
     legacy_facts("-N LVS_FWMARK\n-A PREROUTING -j LVS_FWMARK\n" + "\n".join(IPT_RULES),
                  boot=boot(IPTABLES, RTSP[::-1])),
     ["reorder the rules (iptables-legacy mangle LVS_FWMARK)"], ["iptables-legacy-restore"]),
    ("legacy: IPv6 beside IPv4", [*RTSP, V6],
     legacy_facts(IPT, IP6T.replace("0x2/", "0x3/"), boot=boot(IPTABLES, [*RTSP, V6])),
     ["delete rule not written here: " + UNDECLARED + " (iptables-legacy mangle LVS_FWMARK)",
      "add tcp 2001:db8::50 port 554 mark 2 (ip6tables-legacy mangle LVS_FWMARK)",
      "delete rule not written here: -A LVS_FWMARK -d 2001:db8::50/128 -p tcp -m tcp --dport 554"
      " -j MARK --set-xmark 0x3/0xffffffff (ip6tables-legacy mangle LVS_FWMARK)"],
     ["iptables-legacy-restore", "ip6tables-legacy-restore"]),
    ("legacy: IPv6 no-op", [V6],
     legacy_facts("", IP6T, boot=boot(IPTABLES, [V6])), [], []),
    ("legacy: no marks, the chains, jumps and boot file go", [],
     legacy_facts(IPT, IP6T, boot=boot(IPTABLES, RTSP)),
     ["delete rule not written here: " + IPT_RULES[0] + " (iptables-legacy mangle LVS_FWMARK)",
      "delete rule not written here: " + IPT_RULES[1] + " (iptables-legacy mangle LVS_FWMARK)",
      "delete rule not written here: " + UNDECLARED + " (iptables-legacy mangle LVS_FWMARK)",
      "delete the chain LVS_FWMARK and its jump (iptables-legacy)",
      "delete rule not written here: -A LVS_FWMARK -d 2001:db8::50/128 -p tcp -m tcp --dport 554"
      " -j MARK --set-xmark 0x2/0xffffffff (ip6tables-legacy mangle LVS_FWMARK)",
      "delete the chain LVS_FWMARK and its jump (ip6tables-legacy)",
      "remove fwmark.sh"],
     ["iptables-legacy-restore", "ip6tables-legacy-restore"]),
    ("legacy: no marks, nothing there: no-op", [], legacy_facts(), [], []),
    ("nft: nothing yet", RTSP, nft_facts(),
     ["create the nft table inet lvs_fwmark",
      "add rule ip daddr 192.0.2.50 tcp dport 554 meta mark set 0x00000001"
      " (nft table inet lvs_fwmark)",
      "add rule ip daddr 192.0.2.50 udp dport 6970-6999 meta mark set 0x00000001"
      " (nft table inet lvs_fwmark)",
      "write fwmark.nft"],
     ["nft"]),
    ("nft: no-op", THREE, nft_facts(NFT_THREE, boot=boot(NFTABLES, THREE)), [], []),
    ("nft: an undeclared mark goes", THREE[:2],
     nft_facts(NFT_THREE, boot=boot(NFTABLES, THREE[:2])),
     ["delete rule ip6 daddr 2001:db8::50 sctp dport 9 meta mark set 0xffffffff"
      " (nft table inet lvs_fwmark)"],
     ["nft"]),
    ("nft: a chain and a rule not written here: the table is rewritten", THREE,
     nft_facts(NFT_FOREIGN, boot=boot(NFTABLES, THREE)),
     ["rewrite the nft table inet lvs_fwmark (chains: prerouting, other; other objects: 0)",
      "delete not written here (handle 6): [{\"match\": {\"left\": {\"meta\": {\"key\":"
      " \"iifname\"}}, \"op\": \"==\", \"right\": \"eth0\"}}, {\"counter\": {\"bytes\": 0,"
      " \"packets\": 0}}] (nft table inet lvs_fwmark)"],
     ["nft"]),
    ("nft: no marks, the table and boot file go", [],
     nft_facts(NFT_THREE, boot=boot(NFTABLES, THREE)),
     ["delete rule ip daddr 192.0.2.50 tcp dport 554 meta mark set 0x00000001"
      " (nft table inet lvs_fwmark)",
      "delete rule ip daddr 192.0.2.50 udp dport 6970-6999 meta mark set 0x00000001"
      " (nft table inet lvs_fwmark)",
      "delete rule ip6 daddr 2001:db8::50 sctp dport 9 meta mark set 0xffffffff"
      " (nft table inet lvs_fwmark)",
      "delete the nft table inet lvs_fwmark",
      "remove fwmark.nft"],
     ["nft"]),
    ("nft wins; the legacy chain and boot script of before go", RTSP,
     nft_facts(legacy=IPT, boot=boot(IPTABLES, RTSP)),
     ["create the nft table inet lvs_fwmark",
      "add rule ip daddr 192.0.2.50 tcp dport 554 meta mark set 0x00000001"
      " (nft table inet lvs_fwmark)",
      "add rule ip daddr 192.0.2.50 udp dport 6970-6999 meta mark set 0x00000001"
      " (nft table inet lvs_fwmark)",
      "delete rule not written here: " + IPT_RULES[0] + " (iptables-legacy mangle LVS_FWMARK)",
      "delete rule not written here: " + IPT_RULES[1] + " (iptables-legacy mangle LVS_FWMARK)",
      "delete rule not written here: " + UNDECLARED + " (iptables-legacy mangle LVS_FWMARK)",
      "delete the chain LVS_FWMARK and its jump (iptables-legacy)",
      "write fwmark.nft",
      "remove fwmark.sh"],
     ["nft", "iptables-legacy-restore"]),
]  # fmt: skip


@pytest.mark.parametrize(
    "wanted, facts, operations, tools", [c[1:] for c in PLAN_CASES], ids=[c[0] for c in PLAN_CASES]
)
def test_plan(wanted, facts, operations, tools):
    wanted = marks(*wanted)
    use = None if not wanted else (NFTABLES if facts.nft is None else IPTABLES)
    result = plan(wanted, use, facts)
    assert result.operations == operations
    assert [c.argv[0] for c in result.commands] == tools
    assert result.changed == bool(operations)
    # applying the plan yields the wanted state: simulate the legacy batches
    for family, tool in fw.LEGACY.items():
        if use == IPTABLES and family in facts.legacy_chains:
            chain = simulate_restore(facts.legacy_chains[family], result.commands, tool)
            wanted_here = [m.iptables() for m in wanted if m.family == family]
            assert chain.rules == wanted_here
            assert chain.jumps == (1 if wanted_here else 0)
            assert chain.exists == bool(wanted_here) or (not wanted_here and not chain.present)


def simulate_restore(chain, commands, tool):
    """What the legacy chain holds after the planned restore batches (their lines only)."""
    chain = LegacyChain(chain.exists, list(chain.rules), chain.jumps)
    for command in commands:
        if command.argv[0] != f"{tool}-restore":
            continue
        lines = command.data.splitlines()
        assert lines[0] == "*mangle" and lines[-1] == "COMMIT"
        for line in lines[1:-1]:
            if line == ":LVS_FWMARK - [0:0]":
                chain.exists, chain.rules = True, []
            elif line.startswith("-A LVS_FWMARK "):
                chain.rules.append(line)
            elif line == "-I PREROUTING 1 -j LVS_FWMARK":
                chain.jumps += 1
            elif line == "-D PREROUTING -j LVS_FWMARK":
                assert chain.jumps > 0
                chain.jumps -= 1
            elif line == "-F LVS_FWMARK":
                chain.rules = []
            elif line == "-X LVS_FWMARK":
                assert not chain.rules and not chain.jumps
                chain.exists = False
            else:
                raise AssertionError(f"unexpected restore line {line!r}")
    return chain


def test_nft_batch_is_the_boot_file():
    facts = nft_facts()
    result = plan(marks(*THREE), NFTABLES, facts)
    assert result.commands[0].argv == ["nft", "-f", "-"]
    assert result.commands[0].data == result.write["fwmark.nft"]
    assert result.boot_file == "fwmark.nft"
    text = result.write["fwmark.nft"]
    assert "table inet lvs_fwmark\ndelete table inet lvs_fwmark\n" in text
    assert "type filter hook prerouting priority mangle; policy accept;" in text
    assert "ip6 daddr 2001:db8::50 sctp dport 9 meta mark set 0xffffffff" in text


def test_legacy_boot_script_loads_both_families_and_adds_a_missing_jump_once():
    script = fw.render_legacy(marks(*RTSP, V6))
    assert script.startswith("#!/bin/sh\n")
    assert script.count("-restore -w --noflush <<'EOF'") == 2
    assert IPT_RULES[0] in script and "-d 2001:db8::50/128" in script
    assert (
        "iptables-legacy -w -t mangle -C PREROUTING -j LVS_FWMARK 2>/dev/null ||\n"
        "  iptables-legacy -w -t mangle -I PREROUTING 1 -j LVS_FWMARK\n"
    ) in script
    assert "ip6tables-legacy -w -t mangle -I PREROUTING 1 -j LVS_FWMARK" in script
    assert "ip6tables" not in fw.render_legacy(marks(*RTSP))


def test_diff_lines_are_what_the_tools_print():
    result = plan(marks(*RTSP), IPTABLES, legacy_facts(IPT))
    assert result.before == [
        f"iptables-legacy -t mangle: {r}" for r in [*IPT_RULES, UNDECLARED]
    ] + ["iptables-legacy -t mangle: -A PREROUTING -j LVS_FWMARK"]
    assert result.after == [f"iptables-legacy -t mangle: {r}" for r in IPT_RULES] + [
        "iptables-legacy -t mangle: -A PREROUTING -j LVS_FWMARK"
    ]


@pytest.mark.parametrize(
    "facts, message",
    [
        (
            Facts(
                nft="nft cannot create an inet table: Error: Operation not supported",
                legacy={4: "iptables-legacy is not installed (package iptables)", 6: "x"},
            ),
            "no packet-mark backend on this host: nft cannot create an inet table: Error: "
            "Operation not supported; iptables-legacy is not installed (package iptables). "
            "Marks need nftables",
        ),
        (
            Facts(nft="nft is not installed (package nftables)", requested=NFTABLES),
            "backend nftables was asked for, but nft is not installed",
        ),
    ],
)
def test_a_host_without_a_backend_is_refused(facts, message):
    with pytest.raises(FwmarkError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan(marks(*RTSP), None, facts)
    assert not plan([], None, facts).changed  # nothing declared, nothing needed


def test_ipv6_marks_need_ip6tables_legacy():
    facts = legacy_facts(v6_works=False)
    with pytest.raises(FwmarkError, match="IPv6 marks need ip6tables-legacy"):
        plan(marks(*RTSP, V6), IPTABLES, facts)
    assert plan(marks(*RTSP), IPTABLES, facts).changed


# ---------------------------------------------------------------- probing and reading


class Host:
    """A fake host: which tools exist and work, what they list, which files exist."""

    def __init__(self, nft=True, inet=True, legacy=True, v6=True, loaded=(), files=None):
        self.nft, self.inet, self.legacy, self.v6 = nft, inet, legacy, v6
        self.files = {fw.LEGACY_PROC[f]: "mangle\nfilter\n" for f in loaded} | (files or {})
        self.calls = []

    def run(self, argv, data=None):
        self.calls.append(" ".join(argv))
        tool = argv[0]
        if tool == "nft":
            if not self.nft:
                return 127, "", "nft: command not found"
            if argv[1:3] == ["-f", "-"]:
                ok = self.inet
                return (0, "", "") if ok else (1, "", "Error: Operation not supported\n")
            if argv[1:3] == ["-j", "list"]:
                return 1, "", "Error: No such file or directory\n"
        if tool in fw.LEGACY.values():
            if not self.legacy or (tool.startswith("ip6") and not self.v6):
                return 127, "", f"{tool}: command not found"
            return 0, "-P PREROUTING ACCEPT\n", ""
        raise AssertionError(f"unexpected command {argv}")

    def read(self, path):
        return self.files.get(path)


READ_CASES = [
    # (id, host, backend asked, wanted, backend used, commands run)
    ("nftables works: legacy never touched", Host(), "auto", RTSP, NFTABLES,
     ["nft -f -", "nft -j list table inet lvs_fwmark"]),
    ("nftables works, legacy modules loaded: read for cleanup", Host(loaded=(4, 6)), "auto",
     RTSP, NFTABLES,
     ["nft -f -", "iptables-legacy -w -t mangle -S", "ip6tables-legacy -w -t mangle -S",
      "nft -j list table inet lvs_fwmark"]),
    ("no inet family (the lab kernel): iptables-legacy", Host(inet=False), "auto", RTSP, IPTABLES,
     ["nft -f -", "iptables-legacy -w -t mangle -S"]),
    ("no inet family, IPv6 marks: ip6tables read", Host(inet=False), "auto", [V6], IPTABLES,
     ["nft -f -", "iptables-legacy -w -t mangle -S", "ip6tables-legacy -w -t mangle -S"]),
    ("no nft at all: iptables-legacy", Host(nft=False), "auto", RTSP, IPTABLES,
     ["nft -f -", "iptables-legacy -w -t mangle -S"]),
    ("neither", Host(inet=False, legacy=False), "auto", RTSP, None,
     ["nft -f -", "iptables-legacy -w -t mangle -S"]),
    ("iptables-legacy asked for on an nftables host", Host(), IPTABLES, RTSP, IPTABLES,
     ["nft -f -", "iptables-legacy -w -t mangle -S", "nft -j list table inet lvs_fwmark"]),
    ("nftables asked for where it does not work", Host(inet=False), NFTABLES, RTSP, None,
     ["nft -f -"]),
]  # fmt: skip


@pytest.mark.parametrize(
    "host, backend, wanted, used, calls",
    [c[1:] for c in READ_CASES],
    ids=[c[0] for c in READ_CASES],
)
def test_read_facts(host, backend, wanted, used, calls):
    use, facts = read_facts(host.run, marks(*wanted), backend, read_file=host.read)
    assert use == used
    assert host.calls == calls
    assert facts.boot_files == {"fwmark.nft": None, "fwmark.sh": None, "fwmark-local.sh": None}
    assert facts.local is None  # no local delivery wanted or set up: not read


@pytest.mark.parametrize(
    "host, backend, reason",
    [
        (Host(), NFTABLES, "nft can create an inet table"),
        (Host(inet=False), IPTABLES, "Operation not supported; iptables-legacy can list"),
        (Host(nft=False, legacy=False), None, "no packet-mark backend on this host: nft is not"),
    ],
)
def test_probe_backend(host, backend, reason):
    got, why = probe_backend(host.run)
    assert got == backend and reason in why
    assert not any("list table" in c or "restore" in c for c in host.calls)  # reads only


# ---------------------------------------------------------------- local delivery

RULES_JSON = (
    '[{"priority":0,"src":"all","table":"local"},'
    '{"priority":101,"src":"all","fwmark":"0x1","table":"101"},'
    '{"priority":32766,"src":"all","table":"main"},'
    '{"priority":32767,"src":"all","table":"default"}]'
)
ROUTES_JSON = '[{"type":"local","dst":"default","dev":"lo","scope":"host","flags":[]}]'
DELIVER_1 = fw.LocalDelivery(marks=(1,))


def local_facts(rules="[]", routes="[]", boot_file=None):
    facts = legacy_facts(
        "-N LVS_FWMARK\n-A PREROUTING -j LVS_FWMARK\n" + marks(TRANSPARENT)[0].iptables(),
        boot={**boot(IPTABLES, [TRANSPARENT]), fw.LOCAL_BOOT_FILE: boot_file},
    )
    facts.local = fw.LocalRouting.parse(rules, routes, 101)
    return facts


def test_local_delivery_from_nothing_adds_the_rule_the_route_and_the_boot_script():
    result = plan(marks(TRANSPARENT), IPTABLES, local_facts(), DELIVER_1)
    assert result.operations == [
        "deliver mark 1 locally (policy rule 101)",
        "add route local default dev lo (table 101)",
        "write fwmark-local.sh",
    ]
    assert [str(c) for c in result.commands] == [
        "ip -4 rule add priority 101 fwmark 0x1 lookup 101",
        "ip -4 route add local default dev lo table 101",
    ]
    script = result.write[fw.LOCAL_BOOT_FILE]
    assert "ip -4 rule add priority 101 fwmark 0x1 lookup 101\n" in script
    assert script.endswith("ip -4 route replace local default dev lo table 101\n")


def test_local_delivery_in_place_is_a_no_op():
    facts = local_facts(RULES_JSON, ROUTES_JSON, fw.render_local(DELIVER_1))
    assert facts.local.rules == [(101, 1)]
    assert facts.local.routes == ["local default dev lo"]
    result = plan(marks(TRANSPARENT), IPTABLES, facts, DELIVER_1)
    assert not result.changed and result.before == result.after


def test_local_delivery_no_longer_wanted_is_taken_down():
    facts = local_facts(RULES_JSON, ROUTES_JSON, fw.render_local(DELIVER_1))
    result = plan(marks(TRANSPARENT), IPTABLES, facts)
    assert [str(c) for c in result.commands] == [
        "ip -4 rule del priority 101 fwmark 0x1 lookup 101",
        "ip -4 route flush table 101",
    ]
    assert result.remove == [fw.LOCAL_BOOT_FILE]


def test_local_delivery_of_a_mark_no_rule_sets_is_refused():
    with pytest.raises(FwmarkError, match=r"local delivery of marks no rule sets: \[2\]"):
        plan(marks(TRANSPARENT), IPTABLES, local_facts(), fw.LocalDelivery(marks=(1, 2)))


def test_local_routing_is_read_only_when_wanted_or_set_up():
    host = Host(files={"/etc/lvs/fwmark-local.sh": "#!/bin/sh\n"})
    calls = []

    def run(argv, data=None):
        if argv[0] == "ip":
            calls.append(" ".join(argv))
            return 0, RULES_JSON if "rule" in argv else ROUTES_JSON, ""
        return host.run(argv, data)

    _, facts = read_facts(run, marks(TRANSPARENT), read_file=host.read)
    assert calls == ["ip -j -4 rule show", "ip -j -4 route show table 101"]
    assert facts.local.rules == [(101, 1)]
