"""An operator changes the cluster while it serves: unicast VRRP, a MISC_CHECK, quorum with
a sorry server, a service without a health check. keepalived reloads without dropping
the VIPs or a request, and each feature behaves as configured. The model is restored at
the end."""

import copy
import json
import subprocess

import pytest
import yaml
from conftest import DR, NAT, TUN, holds, wait_for, weights

from lvslab.testing import REPO

SORRY_PORT = 8080


def converge(lab, extra_vars_file=None):
    cmd = [
        "ansible-playbook",
        "-i",
        str(REPO / "inventory" / "web"),
        "-i",
        lab.state["inventory"],
        str(REPO / "site.yml"),
        "--limit",
        "localhost,directors",
    ]
    if extra_vars_file:
        cmd += ["-e", f"@{extra_vars_file}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:]
    return proc.stdout


def settled(lab):
    wait_for(
        "dir1 alone holding the VIP",
        lambda: holds(lab, "dir1", DR) and not holds(lab, "dir2", DR),
        90,
        0.5,
    )


@pytest.fixture(scope="module")
def variant(lab, tmp_path_factory):
    model = yaml.safe_load((REPO / "inventory/web/group_vars/all/topology.yml").read_text())
    changed = {
        "lvs_vrrp": {**model["lvs_vrrp"], "unicast": True},
        "lvs_services": copy.deepcopy(model["lvs_services"]),
    }
    nat = next(s for s in changed["lvs_services"] if s["method"] == "nat")
    nat["check"] = {
        "type": "MISC_CHECK",
        "misc_path": "/bin/nc -z -w 1",
        "misc_timeout": 2,
        "delay_loop": 1,
    }
    nat["quorum"] = 2
    nat["sorry_server"] = {"address": "198.51.100.23", "port": SORRY_PORT}
    # no checker: keepalived keeps the pool as declared
    tun = next(s for s in changed["lvs_services"] if s["method"] == "tun")
    del tun["check"]
    path = tmp_path_factory.mktemp("variant") / "variant.yml"
    path.write_text(yaml.safe_dump(changed))
    stop = path.with_suffix(".stop")
    watch = lab.probe_background(
        "watch",
        f"http://{DR}/",
        "--seconds",
        "300",
        "--interval",
        "0.1",
        "--timeout",
        "2",
        "--stop-file",
        str(stop),
    )
    converge(lab, path)
    stop.touch()
    out, err = watch.communicate(timeout=60)
    assert out, err
    # Changing the VRRP transport: while one director already sends unicast and the
    # other still multicast they cannot hear each other, both act as master for a moment;
    # dir1 then takes the VIPs back after its preempt delay.
    settled(lab)
    yield {"watch_during_reload": json.loads(out)}
    converge(lab)
    settled(lab)
    conf = lab.ssh("cat /etc/keepalived/keepalived.conf", guest="dir1").stdout
    assert "unicast_peer" not in conf and "MISC_CHECK" not in conf
    assert conf.count("TCP_CHECK") == 2 * 3, "the TUN and NAT pools have their checks again"


def test_reload_keeps_the_vips(lab, variant):
    # not one request failed while site.yml re-rendered and reloaded keepalived
    assert variant["watch_during_reload"]["failures"] == 0, variant
    assert holds(lab, "dir1", DR) and not holds(lab, "dir2", DR)
    result = lab.probe("watch", f"http://{DR}/", "--seconds", "2")
    assert result["failures"] == 0


def test_unicast_adverts_go_to_the_peer(lab, variant):
    conf = lab.ssh("cat /etc/keepalived/keepalived.conf", guest="dir1").stdout
    assert "unicast_peer" in conf and "192.0.2.12" in conf
    seen = lab.ssh("timeout 3 tcpdump -c 3 -lni eth0 vrrp 2>/dev/null || true", guest="dir2").stdout
    assert "192.0.2.11 > 192.0.2.12: VRRPv3" in seen, seen
    assert "224.0.0.18" not in seen


def test_unicast_pair_fails_over_and_back(lab, variant):
    lab.ssh("systemctl stop keepalived", guest="dir1")
    try:
        wait_for("dir2 to take the VIP", lambda: holds(lab, "dir2", DR), 30, 0.1)
        assert lab.probe("split", f"http://{DR}/", "--count", "3")["errors"] == []
    finally:
        lab.ssh("systemctl start keepalived", guest="dir1")
    wait_for("dir1 to take the VIP back", lambda: holds(lab, "dir1", DR), 90, 0.2)


def test_misc_check_drains_a_dead_server(lab, variant):
    lab.ssh("systemctl stop nginx", guest="rs3")
    try:
        wait_for(
            "MISC_CHECK to drain rs3", lambda: weights(lab, NAT).get("198.51.100.23") == 0, 30, 0.2
        )
        result = lab.probe("split", f"http://{NAT}/", "--count", "6")
        assert result["errors"] == [] and "rs3" not in result["servers"]
    finally:
        lab.ssh("systemctl start nginx", guest="rs3")
    wait_for("rs3 back", lambda: weights(lab, NAT).get("198.51.100.23") == 1, 30, 0.2)


def test_lost_quorum_sends_clients_to_the_sorry_server(lab, variant):
    # a plain page on rs3:8080 (no X-Real-Server header) plays the sorry server
    lab.ssh(
        f"mkdir -p /tmp/sorry && echo sorry > /tmp/sorry/index.html && "
        f"(setsid python3 -m http.server {SORRY_PORT} -d /tmp/sorry "
        f">/dev/null 2>&1 < /dev/null &)",
        guest="rs3",
    )
    lab.ssh("systemctl stop nginx", guest="rs1")
    lab.ssh("systemctl stop nginx", guest="rs2")
    try:
        wait_for(
            "the sorry server in the NAT pool",
            lambda: (
                f"198.51.100.23:{SORRY_PORT}"
                in lab.ssh(f"ipvsadm -Ln -t {NAT}:80", guest="dir1").stdout
            ),
            30,
            0.2,
        )
        result = lab.probe("split", f"http://{NAT}/", "--count", "6")
        assert result["errors"] == [] and result["servers"] == {"?": 6}, result
    finally:
        lab.ssh("systemctl start nginx", guest="rs1")
        lab.ssh("systemctl start nginx", guest="rs2")
    wait_for(
        "quorum back without the sorry server",
        lambda: f":{SORRY_PORT}" not in lab.ssh(f"ipvsadm -Ln -t {NAT}:80", guest="dir1").stdout,
        30,
        0.2,
    )
    # the bracket keeps pkill from matching the shell that runs it
    lab.ssh(f"pkill -f '[h]ttp.server {SORRY_PORT}' || true", guest="rs3")
    result = lab.probe("split", f"http://{NAT}/", "--count", "6")
    assert result["errors"] == [] and "?" not in result["servers"]


def test_service_without_check_keeps_its_pool(lab, variant):
    conf = lab.ssh("cat /etc/keepalived/keepalived.conf", guest="dir1").stdout
    tun_block = conf.split(f"virtual_server {TUN} 80", 1)[1].split("virtual_server ", 1)[0]
    assert "_CHECK" not in tun_block and "_GET" not in tun_block, tun_block
    assert weights(lab, TUN) == {"192.0.2.21": 3, "192.0.2.22": 2, "192.0.2.23": 1}
    # wrr 3:2:1 over two whole rounds
    result = lab.probe("split", f"http://{TUN}/", "--count", "12")
    assert result["errors"] == [] and result["servers"] == {"rs1": 6, "rs2": 4, "rs3": 2}, result
    # with no checker nothing takes a stopped server out: the pool stays as declared
    lab.ssh("systemctl stop nginx", guest="rs3")
    try:
        for _ in range(3):
            assert weights(lab, TUN).get("192.0.2.23") == 1
            lab.ssh("sleep 1", guest="dir1")
    finally:
        lab.ssh("systemctl start nginx", guest="rs3")
