"""An established TCP connection through IPVS survives in-place edits of its service.

Inside the guest: two real servers and a client, each in a network namespace of its own
joined by veth pairs to the guest's root namespace, which holds the VIP on a dummy
interface and forwards (NAT, a textbook LVS). Real sockets, real packets, real IPVS.
"""

import time

import pytest

SERVER = r"""
import socket, sys, threading
name = sys.argv[1]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("0.0.0.0", 8080)); srv.listen(16)
def serve(conn):
    with conn, conn.makefile("rw") as f:
        for line in f:
            f.write(f"{name} {line}"); f.flush()
while True:
    threading.Thread(target=serve, args=(srv.accept()[0],), daemon=True).start()
"""

CLIENT = r"""
import os, socket, sys, time
out = sys.argv[1]
s = socket.create_connection(("203.0.113.200", 80), timeout=20)
f = s.makefile("rw")
def ask(word, file):
    f.write(word + "\n"); f.flush()
    reply = f.readline().strip()
    with open(f"{out}/{file}.tmp", "w") as fh:
        fh.write(reply)
    os.rename(f"{out}/{file}.tmp", f"{out}/{file}")
ask("one", "reply1")
while not os.path.exists(f"{out}/go"):
    time.sleep(0.1)
ask("two", "reply2")
"""

SETUP = """
set -e
modprobe dummy; modprobe veth 2>/dev/null || true
sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
ip link add lvsvip type dummy && ip link set lvsvip up && ip addr add 203.0.113.200/32 dev lvsvip
for n in 1 2; do
  ip netns add lvsrs$n
  ip link add lvsr$n type veth peer name eth0 netns lvsrs$n
  ip addr add 203.0.113.$((64*n+1))/26 dev lvsr$n && ip link set lvsr$n up
  ip -n lvsrs$n addr add 203.0.113.$((64*n+2))/26 dev eth0
  ip -n lvsrs$n link set eth0 up && ip -n lvsrs$n link set lo up
  ip -n lvsrs$n route add default via 203.0.113.$((64*n+1))
done
ip netns add lvscl
ip link add lvsc type veth peer name eth0 netns lvscl
ip addr add 203.0.113.1/26 dev lvsc && ip link set lvsc up
ip -n lvscl addr add 203.0.113.2/26 dev eth0 && ip -n lvscl link set eth0 up
ip -n lvscl link set lo up && ip -n lvscl route add default via 203.0.113.1
mkdir -p /tmp/lvsconn
for n in 1 2; do
  setsid ip netns exec lvsrs$n python3 /tmp/lvsconn/server.py rs$n \
    </dev/null >/tmp/lvsconn/rs$n.log 2>&1 & echo $! > /tmp/lvsconn/rs$n.pid
done
"""

TEARDOWN = """
for p in /tmp/lvsconn/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
ipvsadm -C
for ns in lvsrs1 lvsrs2 lvscl; do ip netns del $ns 2>/dev/null; done
ip link del lvsvip 2>/dev/null; ip link del lvsr1 2>/dev/null; ip link del lvsr2 2>/dev/null
ip link del lvsc 2>/dev/null
rm -rf /tmp/lvsconn
true
"""


def service(scheduler, weights):
    return [
        {
            "address": "203.0.113.200",
            "port": 80,
            "scheduler": scheduler,
            "destinations": [
                {
                    "address": f"203.0.113.{64 * n + 2}",
                    "port": 8080,
                    "forwarding": "nat",
                    "weight": w,
                }
                for n, w in zip((1, 2), weights, strict=True)
            ],
        }
    ]


def wait_for(lab, path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = lab.ssh(f"cat {path}", check=False)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
        time.sleep(0.5)
    raise AssertionError(f"{path} did not appear in {timeout} s")


@pytest.fixture
def nat_lab(lab):
    lab.ssh(TEARDOWN)
    lab.ssh("mkdir -p /tmp/lvsconn && cat > /tmp/lvsconn/server.py", input=SERVER)
    lab.ssh("cat > /tmp/lvsconn/client.py", input=CLIENT)
    lab.ssh(SETUP)
    # the servers are up once both answer directly
    deadline = time.monotonic() + 30
    while lab.ssh(
        "ip netns exec lvscl sh -c 'echo x | nc -w 2 203.0.113.66 8080' && "
        "ip netns exec lvscl sh -c 'echo x | nc -w 2 203.0.113.130 8080'",
        check=False,
    ).returncode:
        assert time.monotonic() < deadline, "real servers did not start"
        time.sleep(0.5)
    yield lab
    lab.ssh(TEARDOWN)


def new_connection_server(lab):
    return lab.ssh(
        "ip netns exec lvscl sh -c 'echo probe | nc -w 3 203.0.113.200 80'"
    ).stdout.split()[0]


def test_established_connection_survives_weight_and_scheduler_edits(nat_lab):
    lab = nat_lab
    result = lab.module("ipvs", {"services": service("rr", [1, 1])})
    assert result["changed"] and not result.get("failed"), result.get("msg")

    lab.ssh(
        "setsid ip netns exec lvscl python3 /tmp/lvsconn/client.py /tmp/lvsconn "
        "</dev/null >/tmp/lvsconn/client.log 2>&1 & echo $! > /tmp/lvsconn/client.pid"
    )
    holder, word = wait_for(lab, "/tmp/lvsconn/reply1").split()
    assert word == "one" and holder in ("rs1", "rs2")
    n = int(holder[-1])
    other = 3 - n
    conns = lab.ssh("ipvsadm -Lnc").stdout
    assert f"203.0.113.{64 * n + 2}:8080" in conns and "ESTABLISHED" in conns

    # the holder stops taking new connections, the other gets more, another scheduler
    weights = [0, 5] if n == 1 else [5, 0]
    edit = lab.module("ipvs", {"services": service("wlc", weights)})
    assert not edit.get("failed"), edit.get("msg")
    assert edit["operations"] and all(op.startswith(("-E ", "-e ")) for op in edit["operations"]), (
        edit["operations"]
    )
    assert "-A -t 203.0.113.200:80 -s wlc\n" in lab.ssh("ipvsadm -Sn").stdout

    # new connections follow the new weights...
    assert {new_connection_server(lab) for _ in range(3)} == {f"rs{other}"}
    # ...and the established one still carries data, to the same server
    lab.ssh("touch /tmp/lvsconn/go")
    assert wait_for(lab, "/tmp/lvsconn/reply2") == f"{holder} two"
    stats = lab.ssh("ipvsadm -Ln --stats --exact").stdout
    assert f"203.0.113.{64 * n + 2}:8080" in stats
