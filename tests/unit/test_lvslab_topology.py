"""The lab reads guests from the inventory: addresses, segments, sizes, and bad input."""

import copy

import pytest

from lvslab import LabError
from lvslab.topology import Topology, from_inventory

SEGMENTS = {
    "front": {"network": "192.0.2.0/24", "gateway": "192.0.2.1"},
    "back": {"network": "198.51.100.0/24"},
}


def host(front: str, back: str | None = None, **extra) -> dict:
    nics = [{"name": "eth0", "segment": "front", "address": f"{front}/24"}]
    if back:
        nics.append({"name": "eth1", "segment": "back", "address": f"{back}/24"})
    return {"ansible_host": front, "lvs_interfaces": nics, "lvs_segments": SEGMENTS, **extra}


def inventory(**hosts) -> dict:
    return {
        "all": {"children": ["directors", "realservers"]},
        "directors": {"hosts": [h for h in hosts if h.startswith("dir")]},
        "realservers": {"hosts": [h for h in hosts if not h.startswith("dir")]},
        "_meta": {"hostvars": hosts},
    }


def test_guests_in_inventory_order_with_kernel_ip_args():
    topo = from_inventory(
        "web",
        inventory(
            rs1=host("192.0.2.21", "198.51.100.21"),
            dir1=host("192.0.2.11", "198.51.100.11", lvslab_disks=["2G"]),
        ),
    )
    assert [g.name for g in topo.guests] == ["dir1", "rs1"]
    dir1 = topo.guests[0]
    assert dir1.index == 1 and dir1.disks == ["2G"] and dir1.memory == "256M"
    assert [n.kernel_arg() for n in dir1.nics] == [
        "ip=192.0.2.11::192.0.2.1:255.255.255.0::eth0:off",
        "ip=198.51.100.11:::255.255.255.0::eth1:off",
    ]
    assert Topology.from_dict(topo.to_dict()) == topo


BAD = [
    ({"lvs_interfaces": []}, "lvs_interfaces is missing"),
    ({"ansible_host": "192.0.2.99"}, "ansible_host 192.0.2.99 is none of its addresses"),
    ({"lvslab_memory": "lots"}, "must look like 256M"),
    ({"lvslab_disks": ["0G"]}, "must look like 256M"),
]


@pytest.mark.parametrize(("change", "message"), BAD)
def test_bad_host_settings(change, message):
    with pytest.raises(LabError, match=message):
        from_inventory("web", inventory(dir1={**host("192.0.2.11"), **change}))


@pytest.mark.parametrize(
    ("nic", "message"),
    [
        ({"name": "wlan0", "segment": "front", "address": "192.0.2.11/24"}, "must be eth0"),
        ({"name": "eth0", "segment": "dmz", "address": "192.0.2.11/24"}, "not in lvs_segments"),
        ({"name": "eth0", "segment": "front", "address": "192.0.2.300/24"}, "bad address"),
        ({"name": "eth0", "segment": "front", "address": "198.51.100.5/24"}, "not in segment"),
        ({"name": "eth0", "segment": "front", "address": "192.0.2.11/16"}, "not in segment"),
    ],
)
def test_bad_interfaces(nic, message):
    h = host("192.0.2.11")
    h["lvs_interfaces"] = [nic]
    h.pop("ansible_host")
    with pytest.raises(LabError, match=message):
        from_inventory("web", inventory(dir1=h))


def test_interfaces_without_gaps():
    h = host("192.0.2.11")
    h["lvs_interfaces"][0]["name"] = "eth1"
    with pytest.raises(LabError, match="without gaps"):
        from_inventory("web", inventory(dir1=h))


def test_duplicate_addresses_and_the_router_address():
    with pytest.raises(LabError, match="already dir1"):
        from_inventory("web", inventory(dir1=host("192.0.2.11"), rs1=host("192.0.2.11")))
    with pytest.raises(LabError, match="segment gateway"):
        from_inventory("web", inventory(dir1=host("192.0.2.1")))


def test_bad_host_names():
    with pytest.raises(LabError, match="host name"):
        from_inventory("web", inventory(**{"Dir_1": host("192.0.2.11")}))


def test_empty_inventory():
    with pytest.raises(LabError, match="no hosts"):
        from_inventory("web", {"_meta": {"hostvars": {}}})


def test_every_shipped_profile_loads():
    # the inventories in the repository are what `lvslab up` boots
    from lvslab import topology

    for profile in topology.profiles():
        topo = topology.load(profile)
        assert topo.guests, profile
        assert copy.deepcopy(topo) == topo
