"""One contract, one default per value: the roles' argument specs against their sources.

- Each role's defaults/main.yml and meta/argument_specs.yml name the same variables with
  the same defaults, and the defaults pass the role's own spec.
- Lists the Python code owns (schedulers, protocols, families, forwarding methods, the
  model's checkers, VRRP versions and modes) are copied into YAML only where Ansible
  needs them there, and every copy equals its source.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.lvs.cluster.plugins.module_utils import ipvs_args, ipvs_model
from ansible_collections.lvs.cluster.plugins.modules import ipvs as ipvs_module

try:  # the topology model's own lists (a package since the model was split)
    from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model import schema as model
except ImportError:  # pragma: no cover - the single-module model
    from ansible_collections.lvs.cluster.plugins.module_utils import lvs_topology as model

REPO = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "meta").is_dir())


def _yaml(path: Path):
    return yaml.safe_load(path.read_text())


def specs(role: str) -> dict:
    return _yaml(REPO / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]


def defaults(role: str) -> dict:
    return _yaml(REPO / "roles" / role / "defaults" / "main.yml") or {}


def templated(value) -> bool:
    return isinstance(value, str) and "{{" in value


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_argument_spec_name_the_same_variables(role):
    options = {k for entry in specs(role).values() for k in entry["options"]}
    assert set(defaults(role)) == options


@pytest.mark.parametrize("role", ROLES)
def test_argument_spec_defaults_are_the_role_defaults(role):
    values = defaults(role)
    for entry, spec in specs(role).items():
        for name, option in spec["options"].items():
            # a templated default (a path under $HOME) is described, not copied
            if not templated(values[name]):
                assert option.get("default") == values[name], (entry, name)


@pytest.mark.parametrize("role", ROLES)
def test_role_defaults_pass_the_role_argument_spec(role):
    values = {k: v for k, v in defaults(role).items() if not templated(v)}
    for entry, spec in specs(role).items():
        params = {k: v for k, v in values.items() if k in spec["options"]}
        result = ArgumentSpecValidator(spec["options"]).validate(
            params, validate_role_argument_spec=True
        )
        assert result.error_messages == [], entry


# ------------------------------------------------------------------ lists owned by Python

DIRECTOR = specs("lvs_director")["main"]["options"]
VS = DIRECTOR["lvs_director_virtual_servers"]["options"]
VRRP = DIRECTOR["lvs_director_vrrp_instances"]["options"]


def choices(option: dict) -> list:
    """An option's choices, without the null a nullable key allows."""
    return [c for c in option["choices"] if c is not None]


def test_schedulers_are_ipvs_model_schedulers_everywhere():
    source = list(ipvs_model.SCHEDULERS)
    assert DIRECTOR["lvs_director_schedulers"]["choices"] == source
    assert DIRECTOR["lvs_director_schedulers"]["default"] == source
    assert defaults("lvs_director")["lvs_director_schedulers"] == source
    assert VS["scheduler"]["choices"] == source
    assert ipvs_args.SERVICE_SPEC["scheduler"]["choices"] == source
    assert list(model.SCHEDULERS) == source
    row = next(
        line
        for line in (REPO / "docs" / "topology.md").read_text().splitlines()
        if line.startswith("| `scheduler` |")
    )
    assert re.findall(r"`([a-z]+)`", row.split("|")[2]) == source


def _module_doc_options() -> dict:
    return yaml.safe_load(ipvs_module.DOCUMENTATION)["options"]


def test_ipvs_module_documentation_matches_its_argument_spec():
    # the module's DOCUMENTATION choices and defaults are those its code checks
    doc = _module_doc_options()["services"]["suboptions"]
    pairs = [
        (doc, ipvs_args.SERVICE_SPEC),
        (doc["destinations"]["suboptions"], ipvs_args.DESTINATION_SPEC),
    ]
    for documented, spec in pairs:
        assert set(documented) == set(spec)
        for name, option in spec.items():
            for key in ("type", "choices", "default", "required"):
                assert documented[name].get(key) == option.get(key), (name, key)
    assert doc["scheduler"]["choices"] == list(ipvs_model.SCHEDULERS)


def test_director_contract_lists_are_the_code_lists():
    protocols = list(ipvs_model.PROTOCOLS)
    assert choices(VS["protocol"]) == protocols == list(model.PROTOCOLS)
    assert None in VS["protocol"]["choices"]  # null on fwmark services
    fwmark_rules = DIRECTOR["lvs_director_fwmark_rules"]["options"]
    assert fwmark_rules["protocol"]["choices"] == protocols
    assert VS["family"]["choices"] == list(ipvs_model.FAMILIES)
    methods = ipvs_args.DESTINATION_SPEC["forwarding"]["choices"]
    assert VS["method"]["choices"] == methods == list(model.METHODS)
    assert VS["check"]["options"]["type"]["choices"] == list(model.CHECK_TYPES)
    assert VRRP["version"]["choices"] == list(model.VRRP_VERSIONS)
    assert VRRP["auth"]["options"]["type"]["choices"] == list(model.AUTH_TYPES)
    assert DIRECTOR["lvs_director_mode"]["choices"] == list(model.MODES)
    # the forwarding methods the role maps onto keepalived's lb_kind
    lb_kind = _yaml(REPO / "roles" / "lvs_director" / "vars" / "main.yml")
    assert list(lb_kind["__lvs_director_lb_kind"]) == methods


def test_media_sessions_default_is_the_one_preflight_checks():
    from ansible_collections.lvs.cluster.plugins.module_utils.lvs_model import applications

    assert defaults("media")["media_max_sessions"] == applications.MEDIA_MAX_SESSIONS
    spec = applications.KNOWN["media"]
    ports = {p.variable: p.value() for p in spec.ports}
    assert ports == {
        "media_rtsp_port": defaults("media")["media_rtsp_port"],
        "media_rtp_ports": defaults("media")["media_rtp_ports"],
    }
