"""The director's keepalived.conf, rendered from the role's contract and proved with keepalived.

The variables are the exact shapes the playbook hands the lvs_director role (every key
present, null where it does not apply; roles/lvs_director/meta/argument_specs.yml). Each
case is checked against the role's argument spec, rendered with jinja2 as Ansible's
template module renders it, asserted on, and, where a keepalived binary is available
(`make keepalived` unpacks Debian's 2.2.7), run through the role's own validate command
(`keepalived --config-test`) in a private network namespace that has the interfaces the
configuration names.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

REPO = Path(__file__).resolve().parents[2]
ROLE = REPO / "roles" / "lvs_director"
TEMPLATE = "etc/keepalived/keepalived.conf.j2"
UNPACKED = Path("/var/cache/lvslab/keepalived/keepalived")  # make keepalived


def _yaml(path: Path):
    return yaml.safe_load(path.read_text())


SPEC = _yaml(ROLE / "meta" / "argument_specs.yml")["argument_specs"]["main"]["options"]
DEFAULTS = _yaml(ROLE / "defaults" / "main.yml")
VARS = _yaml(ROLE / "vars" / "main.yml")
# the role's own check before a reload: "keepalived --config-test --log-console -f %s"
VALIDATE = next(
    t["ansible.builtin.template"]["validate"]
    for t in _yaml(ROLE / "tasks" / "keepalived.yml")
    if "validate" in t.get("ansible.builtin.template", {})
)

# ------------------------------------------------------------------ the contract's shapes


def vrrp(name, interface, vips, **kw):
    inst = {
        "name": name,
        "interface": interface,
        "state": "BACKUP",
        "priority": 150,
        "virtual_router_id": 51,
        "version": 3,
        "advert_int": 0.1,
        "preempt": True,
        "preempt_delay": 15,
        "unicast_src_ip": None,
        "unicast_peers": [],
        "auth": None,
        "virtual_ipaddresses": [{"address": a, "interface": interface} for a in vips],
    }
    inst.update(kw)
    return inst


def check(type_, **kw):
    out = {
        "type": type_,
        "port": None,
        "connect_timeout": 1,
        "delay_loop": 1,
        "retry": 1,
        "delay_before_retry": 0.2,
        "path": "/" if type_ in ("HTTP_GET", "SSL_GET") else None,
        "status_code": 200 if type_ in ("HTTP_GET", "SSL_GET") else None,
        "digest": None,
        "virtualhost": None,
        "misc_path": None,
        "misc_timeout": 5 if type_ == "MISC_CHECK" else None,
        "misc_dynamic": False,
    }
    out.update(kw)
    return out


def service(name, vip, address, port, real, **kw):
    fwmark = kw.get("fwmark")
    svc = {
        "name": name,
        "address": None if fwmark else address,
        "vip": vip,
        "protocol": None if fwmark else "tcp",
        "port": None if fwmark else port,
        "fwmark": None,
        "family": "ipv4",
        "scheduler": "rr",
        "method": "dr",
        "persistence_timeout": None,
        "persistence_netmask": None,
        "quorum": 1,
        "sorry_server": None,
        "inhibit_on_failure": True,
        "check": None,
        "real_servers": [
            {"name": f"rs{i}", "address": a, "port": None if fwmark else port, "weight": 1}
            for i, a in enumerate(real, 1)
        ],
    }
    svc.update(kw)
    return svc


FRONT = ["192.0.2.21", "192.0.2.22", "192.0.2.23"]
BACK = ["198.51.100.21", "198.51.100.22", "198.51.100.23"]


def web():
    """inventory/web as dir1 receives it: two instances, DR/TUN/NAT services, checks."""
    https = service(
        "web-https-dr",
        "web-dr",
        "192.0.2.100",
        443,
        FRONT,
        persistence_timeout=300,
        persistence_netmask="255.255.255.255",
        check=check("SSL_GET"),
    )
    tun = service("web-http-tun", "web-tun", "192.0.2.101", 80, FRONT, scheduler="wrr")
    tun.update(method="tun", check=check("TCP_CHECK"))
    for rs, weight in zip(tun["real_servers"], (3, 2, 1), strict=True):
        rs["weight"] = weight
    return {
        "lvs_director_vrrp_instances": [
            vrrp("front", "eth0", ["192.0.2.100/24", "192.0.2.101/24", "192.0.2.102/24"]),
            vrrp("back", "eth1", ["198.51.100.1/24"], virtual_router_id=52),
        ],
        "lvs_director_virtual_servers": [
            service("web-http-dr", "web-dr", "192.0.2.100", 80, FRONT, check=check("HTTP_GET")),
            https,
            tun,
            service(
                "web-http-nat",
                "web-nat",
                "192.0.2.102",
                80,
                BACK,
                method="nat",
                check=check("TCP_CHECK"),
            ),
        ],
    }


def single():
    """One VRRPv2 instance with unicast, authentication and no preemption."""
    return {
        "lvs_director_vrrp_instances": [
            vrrp(
                "front",
                "eth0",
                ["192.0.2.120/24"],
                state="BACKUP",
                version=2,
                advert_int=1,
                preempt=False,
                preempt_delay=0,
                unicast_src_ip="192.0.2.11",
                unicast_peers=["192.0.2.12"],
                auth={"type": "PASS", "pass": "s3cret"},
            )
        ],
        "lvs_director_virtual_servers": [
            service(
                "cache-http",
                "cache",
                "192.0.2.120",
                80,
                FRONT[:2],
                scheduler="lblc",
                method="tun",
                check=check("HTTP_GET", port=8080),
                sorry_server={"address": "192.0.2.30", "port": None},
            )
        ],
        "lvs_director_notification_email": ["ops@example.org"],
        "lvs_director_smtp_server": "192.0.2.1",
    }


def unchecked():
    """A service without a health check, next to one with a sorry server and a quorum."""
    plain = service("dns", "dns", "192.0.2.130", 53, FRONT, protocol="udp", scheduler="sh")
    guarded = service(
        "web",
        "dns",
        "192.0.2.130",
        80,
        BACK,
        method="nat",
        quorum=2,
        sorry_server={"address": "198.51.100.40", "port": 8080},
        inhibit_on_failure=False,
    )
    for rs in guarded["real_servers"]:
        rs["port"] = 8080
    return {
        "lvs_director_vrrp_instances": [
            vrrp("front", "eth0", ["192.0.2.130/24"]),
            vrrp("back", "eth1", ["198.51.100.1/24"], virtual_router_id=52),
        ],
        "lvs_director_virtual_servers": [plain, guarded],
    }


def fwmark_misc_ssl():
    """A fwmark service with MISC_CHECK, an SSL_GET service with a digest and a Host."""
    rtsp = service(
        "media-rtsp",
        "media",
        None,
        None,
        FRONT,
        fwmark=1,
        scheduler="sh",
        persistence_timeout=600,
        persistence_netmask="255.255.255.0",
        check=check("MISC_CHECK", misc_path="/bin/nc -z -w 1", misc_dynamic=True),
    )
    rtsp6 = service(
        "media-rtsp6",
        "media6",
        None,
        None,
        ["2001:db8::21"],
        fwmark=2,
        family="ipv6",
        persistence_timeout=600,
        persistence_netmask=64,
        check=check("TCP_CHECK", port=554),
    )
    portal = service(
        "media-portal",
        "media",
        "192.0.2.110",
        443,
        FRONT,
        check=check(
            "SSL_GET",
            path="/health",
            status_code=None,
            digest="9b3a0c85a887a256d6939da88aabd8cd",
            virtualhost="media.example.org",
        ),
    )
    return {
        "lvs_director_vrrp_instances": [
            vrrp("front", "eth0", ["192.0.2.110/24"], state="MASTER", preempt_delay=0),
        ],
        "lvs_director_virtual_servers": [rtsp, rtsp6, portal],
    }


CASES = {"web": web, "single": single, "unchecked": unchecked, "fwmark": fwmark_misc_ssl}

# ------------------------------------------------------------------ rendering


def role_vars(case: dict) -> dict:
    """What the template sees: the role's defaults, its plain (untemplated) vars, the case."""
    out = {k: v for k, v in DEFAULTS.items()}
    out.update({k: v for k, v in VARS.items() if not (isinstance(v, str) and "{{" in v)})
    out.update(case)
    return out


def render(case: dict, host: str = "dir1") -> str:
    # Ansible's template module: trim_blocks, the trailing newline kept; a missing key
    # is an error, as in Ansible
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROLE / "templates"),
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    variables = {"ansible_managed": "Ansible managed", "inventory_hostname": host}
    variables.update(role_vars(case))
    return env.get_template(TEMPLATE).render(variables)


def block(text: str, head: str) -> str:
    """The block that starts with the line `head {`, up to its closing brace."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == head + " {")
    depth = 0
    for i in range(start, len(lines)):
        depth += lines[i].count("{") - lines[i].count("}")
        if depth == 0:
            return "\n".join(lines[start : i + 1])
    raise AssertionError(f"unclosed block {head}")


def validate(case: dict) -> list[str]:
    params = {k: v for k, v in role_vars(case).items() if k in SPEC}
    result = ArgumentSpecValidator(SPEC).validate(params, validate_role_argument_spec=True)
    return result.error_messages


# ------------------------------------------------------------------ the cases


@pytest.mark.parametrize("name", CASES)
def test_the_case_is_the_role_contract(name):
    assert validate(CASES[name]()) == []


def test_a_missing_or_unknown_key_is_refused_by_the_argument_spec():
    case = web()
    del case["lvs_director_virtual_servers"][0]["check"]["retry"]
    case["lvs_director_vrrp_instances"][0]["preemt"] = True
    errors = " ".join(validate(case))
    assert "missing required arguments: retry" in errors
    assert "preemt" in errors


def test_web_two_instances_move_as_one_sync_group():
    text = render(web())
    group = block(text, "vrrp_sync_group lvs")
    assert re.search(r"group \{\s+front\s+back\s+\}", group)
    assert 'notify "/usr/local/sbin/lvs-notify"' in group
    front = block(text, "vrrp_instance front")
    # the state as the model gives it; preempt_delay needs an initial BACKUP
    assert "    state BACKUP\n" in front and "preempt_delay 15" in front
    assert "notify" not in front and "unicast" not in front and "authentication" not in front
    assert "192.0.2.102/24 dev eth0" in front
    assert "198.51.100.1/24 dev eth1" in block(text, "vrrp_instance back")
    dr = block(text, "virtual_server 192.0.2.100 80")
    assert "delay_loop 1\n" in dr and "lb_kind DR" in dr and "protocol TCP" in dr
    assert dr.count("HTTP_GET {") == 3 and "status_code 200" in dr and "digest" not in dr
    https = block(text, "virtual_server 192.0.2.100 443")
    assert "persistence_timeout 300" in https and "SSL_GET {" in https
    assert "persistence_granularity 255.255.255.255" in https
    tun = block(text, "virtual_server 192.0.2.101 80")
    assert "lb_kind TUN" in tun and "weight 3" in tun and tun.count("TCP_CHECK {") == 3
    nat = block(text, "virtual_server 192.0.2.102 80")
    assert "lb_kind NAT" in nat and "real_server 198.51.100.21 80 {" in nat
    assert 'notify_down "/usr/local/sbin/lvs-notify DOWN web-http-nat rs1"' in nat
    assert "sorry_server" not in text and "smtp" not in text


def test_single_instance_has_no_sync_group_and_notifies_itself():
    text = render(single())
    assert "vrrp_sync_group" not in text
    front = block(text, "vrrp_instance front")
    # nopreempt needs an initial BACKUP too (keepalived clears it from a MASTER)
    assert "    state BACKUP\n" in front and "nopreempt" in front
    assert "preempt_delay" not in front
    assert 'notify "/usr/local/sbin/lvs-notify"' in front and "smtp_alert" in front
    assert "unicast_src_ip 192.0.2.11" in front and "192.0.2.12" in block(front, "unicast_peer")
    assert "auth_type PASS" in front and "auth_pass s3cret" in front
    vs = block(text, "virtual_server 192.0.2.120 80")
    # no port given: keepalived uses the service's port for a DR/TUN sorry server
    assert "    sorry_server 192.0.2.30\n" in vs
    assert "connect_port 8080" in vs and "lb_algo lblc" in vs
    assert "notification_email {\n        ops@example.org\n    }" in text


def test_without_a_check_the_real_servers_stay_in_the_pool():
    text = render(unchecked())
    dns = block(text, "virtual_server 192.0.2.130 53")
    assert "protocol UDP" in dns and "quorum 1" in dns
    assert "delay_loop" not in dns and "_CHECK" not in dns and "_GET" not in dns
    assert dns.count("real_server ") == 3 and "inhibit_on_failure" in dns
    web_ = block(text, "virtual_server 192.0.2.130 80")
    assert "quorum 2" in web_ and "sorry_server 198.51.100.40 8080" in web_
    assert "real_server 198.51.100.22 8080 {" in web_ and "inhibit_on_failure" not in web_


def test_fwmark_misc_check_and_ssl_digest_with_virtualhost():
    text = render(fwmark_misc_ssl())
    rtsp = block(text, "virtual_server fwmark 1")
    assert "protocol" not in rtsp and "ip_family" not in rtsp
    assert "persistence_granularity 255.255.255.0" in rtsp
    assert "real_server 192.0.2.21 {" in rtsp
    assert 'misc_path "/bin/nc -z -w 1 192.0.2.21"' in rtsp
    assert "misc_timeout 5" in rtsp and "misc_dynamic" in rtsp
    assert "connect_timeout" not in rtsp and "retry 1" in rtsp
    rtsp6 = block(text, "virtual_server fwmark 2")
    assert "ip_family inet6" in rtsp6 and "persistence_granularity 64" in rtsp6
    assert "real_server 2001:db8::21 {" in rtsp6 and "connect_port 554" in rtsp6
    portal = block(text, "virtual_server 192.0.2.110 443")
    assert "path /health" in portal and "digest 9b3a0c85a887a256d6939da88aabd8cd" in portal
    assert "status_code" not in portal and "virtualhost media.example.org" in portal


def test_ansible_renders_the_same_text(tmp_path):
    # the jinja2 environment above is Ansible's: one run of the template module per case
    hosts = {
        name: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
        | role_vars(make())
        for name, make in CASES.items()
    }
    (tmp_path / "hosts.json").write_text(json.dumps({"all": {"hosts": hosts}}))
    play = [
        {
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "Render",
                    "ansible.builtin.template": {
                        "src": str(ROLE / "templates" / TEMPLATE),
                        "dest": f"{tmp_path}/{{{{ inventory_hostname }}}}.conf",
                        "mode": "0644",
                    },
                }
            ],
        }
    ]
    (tmp_path / "play.json").write_text(json.dumps(play))
    playbook = Path(sys.executable).with_name("ansible-playbook")
    proc = subprocess.run(
        [
            str(playbook) if playbook.exists() else "ansible-playbook",
            "-i",
            "hosts.json",
            "play.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ANSIBLE_CONFIG": str(REPO / "ansible.cfg")},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name, make in CASES.items():
        assert (tmp_path / f"{name}.conf").read_text() == render(make(), host=name), name


def test_no_default_filter_in_the_template():
    # every value comes from the contract; the template decides none of them
    assert "default(" not in (ROLE / "templates" / TEMPLATE).read_text()


# ------------------------------------------------------------------ the shipped profiles


def profile_directors(profile: str) -> dict[str, dict]:
    """The lvs_director_* variables the model gives each director of inventory/<profile>."""
    from ansible_collections.lvs.cluster.plugins.module_utils import lvs_model

    inventory = REPO / "inventory" / profile
    hosts, groups = {}, {}
    for group, body in _yaml(inventory / "hosts.yml")["all"]["children"].items():
        groups[group] = list((body or {}).get("hosts") or {})
        for name, host in ((body or {}).get("hosts") or {}).items():
            hosts[name] = host or {}
    variables = {}
    for path in sorted((inventory / "group_vars" / "all").glob("*.yml")):
        variables.update(_yaml(path) or {})
    plan = lvs_model.build_plan(lvs_model.model_from_vars(variables), hosts, groups)
    return {
        host: {k: v for k, v in plan["hosts"][host].items() if k.startswith("lvs_director_")}
        for host in groups["directors"]
    }


PROFILES = sorted(p.name for p in (REPO / "inventory").iterdir() if (p / "hosts.yml").exists())


@pytest.mark.parametrize("profile", PROFILES)
def test_the_model_gives_the_role_its_contract(profile):
    # the other side of the contract: what the model projects for each director
    for host, case in profile_directors(profile).items():
        assert validate(case) == [], host
        render(case, host=host)  # a key the template reads and the model lacks fails here


# ------------------------------------------------------------------ the real keepalived


def _keepalived() -> str | None:
    for candidate in (os.environ.get("LVS_KEEPALIVED"), str(UNPACKED), shutil.which("keepalived")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _interfaces(case: dict) -> set[str]:
    names = set()
    for inst in case["lvs_director_vrrp_instances"]:
        names.add(inst["interface"])
        names.update(v["interface"] for v in inst["virtual_ipaddresses"])
    return names


@pytest.fixture(scope="module")
def keepalived():
    binary = _keepalived()
    if binary is None:
        pytest.skip(
            f"no keepalived binary ({UNPACKED} from `make keepalived`, LVS_KEEPALIVED, PATH)"
        )
    probe = subprocess.run(
        ["unshare", "--net", "--map-root-user", "true"], capture_output=True, text=True
    )
    if probe.returncode:
        pytest.skip(f"no private network namespace for the interfaces: {probe.stderr.strip()}")
    return binary


def in_namespace(keepalived: str, conf: Path, interfaces) -> subprocess.CompletedProcess:
    """The role's validate command on conf, in a network namespace of the test's own.

    keepalived refuses interfaces that do not exist: the namespace gets them (a dummy
    device where the kernel has the module, a bridge otherwise).
    """
    command = shlex.split(VALIDATE.replace("%s", str(conf)))
    assert command[0] == "keepalived"
    command[0] = keepalived
    links = "".join(
        f"{{ ip link add {n} type dummy 2>/dev/null || ip link add {n} type bridge; }} && "
        for n in sorted(interfaces)
    )
    return subprocess.run(
        ["unshare", "--net", "--map-root-user", "sh", "-c", f"{links}exec {shlex.join(command)}"],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", CASES)
def test_keepalived_accepts_the_rendered_configuration(keepalived, name, tmp_path):
    case = CASES[name]()
    conf = tmp_path / "keepalived.conf"
    conf.write_text(render(case))
    proc = in_namespace(keepalived, conf, _interfaces(case))
    assert proc.returncode == 0, f"{proc.stdout}{proc.stderr}\n{conf.read_text()}"


@pytest.mark.parametrize("profile", PROFILES)
def test_keepalived_accepts_every_profile(keepalived, profile, tmp_path):
    for host, case in profile_directors(profile).items():
        if case["lvs_director_mode"] != "keepalived":
            continue
        conf = tmp_path / f"{host}.conf"
        conf.write_text(render(case, host=host))
        proc = in_namespace(keepalived, conf, _interfaces(case))
        assert proc.returncode == 0, f"{host}: {proc.stdout}{proc.stderr}\n{conf.read_text()}"


SYNC_GROUP_OF_ONE = "vrrp_sync_group lvs {\n    group {\n        front\n    }\n}\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        # why a single instance carries its own notify
        (lambda text: text + SYNC_GROUP_OF_ONE, "has only 1 virtual router"),
        # why the model gives BACKUP when preempt is false (as with a preempt_delay)
        (
            lambda text: text.replace("state BACKUP", "state MASTER"),
            "nopreempt will not work with initial state MASTER",
        ),
    ],
    ids=["sync-group-of-one", "nopreempt-from-master"],
)
def test_keepalived_refuses(keepalived, tmp_path, edit, message):
    # and so the check above is not blind
    conf = tmp_path / "keepalived.conf"
    conf.write_text(edit(render(single())))
    proc = in_namespace(keepalived, conf, ["eth0"])
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr


def test_argument_spec_of_a_large_model_is_checked_in_reasonable_time():
    # the validator's own share (about 0.1 s here); the role's check task adds the
    # templating of its variables
    one = web()["lvs_director_virtual_servers"]
    many = []
    for i in range(500):
        svc = copy.deepcopy(one[i % len(one)])
        svc["name"] = f"svc{i}"
        many.append(svc)
    start = time.perf_counter()
    assert validate({"lvs_director_virtual_servers": many}) == []
    assert time.perf_counter() - start < 5
