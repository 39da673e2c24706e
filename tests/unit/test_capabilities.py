"""Capabilities: facts read from a host's /sys and /lib/modules, problems out."""

from ansible_collections.lvs.cluster.plugins.module_utils import capabilities
from model_api import host_vars
from topology_cases import groups, hosts, model


def _root(tmp_path):
    base = tmp_path / "lib/modules/6.1.0"
    base.mkdir(parents=True)
    (base / "modules.dep").write_text(
        "kernel/net/netfilter/ipvs/ip_vs.ko: \nkernel/net/netfilter/ipvs/ip_vs_wrr.ko: ip_vs.ko\n"
        "kernel/drivers/net/dummy.ko.xz:\n"
    )
    (base / "modules.builtin").write_text("kernel/fs/fuse/fuse.ko\n")
    for name in ("ipip", "nf_conntrack"):
        (tmp_path / "sys/module" / name).mkdir(parents=True)
    for nic in ("lo", "eth0", "eth1"):
        (tmp_path / "sys/class/net" / nic).mkdir(parents=True)
    return tmp_path


def test_facts_cover_files_builtins_and_loaded_modules(tmp_path):
    facts = capabilities.read_facts("6.1.0", str(_root(tmp_path)))
    assert facts["available_modules"] == ["dummy", "fuse", "ip_vs", "ip_vs_wrr"]
    assert facts["loaded_modules"] == ["ipip", "nf_conntrack"]
    assert facts["interfaces"] == ["eth0", "eth1", "lo"]


def test_problems_name_what_is_missing_and_why(tmp_path):
    facts = capabilities.read_facts("6.1.0", str(_root(tmp_path)))
    wanted = {
        "modules": {"ip_vs": "IPVS", "ip-vs-wrr": "wrr", "ipip": "TUN", "ip_vs_mh": "the mh"},
        "interfaces": ["eth0", "eth2"],
    }
    assert capabilities.problems(wanted, facts) == [
        "kernel module ip_vs_mh (the mh) is neither loaded nor available in 6.1.0",
        "interface eth2 (lvs_interfaces) does not exist (found: eth0, eth1)",
    ]
    assert capabilities.problems({"modules": {"ip_vs": "IPVS"}}, facts) == []


def test_plan_asks_each_host_for_its_part():
    m = model()
    director = host_vars(m, hosts(), groups(), "dir1")["lvs_capabilities"]
    assert director["interfaces"] == ["eth0", "eth1"] and director["marks"] is True
    assert set(director["modules"]) == {"ip_vs", "ip_vs_rr", "ip_vs_wrr", "ip_vs_lc"}
    # rs1 serves DR, TUN and NAT; rs3 is in no fwmark pool but in DR and TUN ones
    rs1 = host_vars(m, hosts(), groups(), "rs1")["lvs_capabilities"]
    assert set(rs1["modules"]) == {"dummy", "ipip"} and rs1["marks"] is False
    m["services"] = [s for s in m["services"] if s["method"] == "nat"]
    assert host_vars(m, hosts(), groups(), "rs3")["lvs_capabilities"]["modules"] == {}
