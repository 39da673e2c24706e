"""The topology_role_vars filter: hostvars and groups in, one host's role variables out."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.lvs.cluster.plugins.filter.topology import FilterModule
from topology_cases import groups, hosts, model

role_vars = FilterModule().filters()["topology_role_vars"]


def _hostvars(m):
    variables = {f"lvs_{k}": v for k, v in m.items()}
    return {name: {**hv, **variables} for name, hv in hosts().items()}


def _groups():
    g = groups()
    g["all"] = [*g["directors"], *g["realservers"]]
    return g


def test_director_gets_director_variables():
    out = role_vars(_hostvars(model()), _groups(), "dir2")
    assert out["lvs_director_vrrp_instances"][0]["state"] == "BACKUP"
    assert not any(k.startswith("lvs_realserver_") for k in out)


def test_realserver_gets_realserver_variables():
    out = role_vars(_hostvars(model()), _groups(), "rs2")
    assert {"lvs_realserver_nat", "lvs_realserver_vips"} <= set(out)
    assert not any(k.startswith("lvs_director_") for k in out)
    assert out["lvs_realserver_nat"]["source"] == "198.51.100.22"
    # no lvs_storage: nothing to mount, a local document root
    assert out["nfs_client_mounts"] == [] and out["web_document_root"] is None


def test_other_host_gets_storage_variables_only():
    g = _groups()
    g["storage"] = ["rs3"]
    g["realservers"].remove("rs3")
    m = model()
    for svc in m["services"]:
        svc["real_servers"] = [rs for rs in svc["real_servers"] if rs["host"] != "rs3"]
    out = role_vars(_hostvars(m), g, "rs3")
    assert not any(k.startswith(("lvs_director_", "lvs_realserver_")) for k in out)
    assert out["nfs_server_exports"] == [] and out["glusterfs_volumes"] == []


def test_invalid_model_is_a_filter_error():
    m = model()
    m["services"][0]["scheduler"] = "random"
    with pytest.raises(AnsibleFilterError, match="unknown scheduler 'random'"):
        role_vars(_hostvars(m), _groups(), "dir1")
