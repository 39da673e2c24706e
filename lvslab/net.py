"""The lab's private network: one namespace with a bridge per segment, a tap per guest
NIC, and a client namespace behind the lab router.

    client ns (203.0.113.10-30) --veth--+ lab ns (router) --br-front-- guests' eth0
    client ns of one address ---veth--+ br-client      --br-back--- guests' eth1

A client that must send everything (TCP and UDP alike) from one address of its own gets
a namespace of its own on the client bridge (``add_client``), made on first use.

With an origin side (``Topology.origin``, a cache cluster's profile), an origin namespace
hangs off the lab router too, holding the origin addresses (198.18.0.10, ...), and the
router sends what the clients address to TCP port 80 of 198.18.0.0/15 through the
cluster's VIP (a policy rule on the client bridge and a table of its own); everything
else, the caches' own fetches included, goes the direct way:

    client ns --> lab router --(tcp/80 from the clients)--> VIP (director) --> a cache
                  lab router <--(the caches' fetches, all else)--> origin ns

The lab namespace routes between the client side and the segments that have a gateway
(like an upstream router); it holds a management address on the other segments but
does not forward to them. The root namespace holds no lab address, so two labs with
the same ranges coexist.
"""

from __future__ import annotations

import ipaddress
import subprocess

from . import LabError
from .topology import Guest, Topology

CLIENT_NETWORK = ipaddress.ip_network("203.0.113.0/24")
CLIENT_ROUTER = "203.0.113.1"
CLIENT_ADDRESSES = [f"203.0.113.{i}" for i in range(10, 31)]  # .10 is the primary
# addresses of the one-address client namespaces
SINGLE_CLIENTS = ipaddress.ip_network("203.0.113.128/25")
CLIENT_BRIDGE = "br-client"
CLIENT_ROUTER_MAC = "02:00:cb:00:71:01"  # locally administered
ORIGIN_LINK = "rt-origin"
WEB_TABLE = 180  # the lab router's table for the clients' web traffic to the origins
WEB_RULE_PRIORITY = 90  # before the prohibit rules of the private segments
ORIGIN_RANGE = "198.18.0.0/15"


def run(cmd: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)
    except subprocess.CalledProcessError as exc:
        raise LabError(f"{' '.join(cmd)}: {exc.stderr.strip()}") from exc


def namespaces() -> set[str]:
    out = run(["ip", "netns", "list"]).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def ns_pids(ns: str) -> list[int]:
    out = run(["ip", "netns", "pids", ns], check=False).stdout
    return [int(p) for p in out.split()]


def bridge_name(segment: str) -> str:
    return f"br-{segment}"[:15]


def tap_name(guest: Guest, nic_index: int) -> str:
    return f"tap{guest.index}n{nic_index}"


def mac(guest: Guest, nic_index: int) -> str:
    return f"02:4c:56:00:{guest.index:02x}:{nic_index:02x}"


def management_address(segment: dict) -> str:
    """The lab router's address on a segment: its gateway, else the last host address."""
    if segment.get("gateway"):
        return segment["gateway"]
    net = ipaddress.ip_network(segment["network"])
    return str(net.broadcast_address - 1)


def _batch(ns: str, lines: list[str]) -> None:
    proc = subprocess.run(
        ["ip", "-n", ns, "-batch", "-"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        raise LabError(f"network setup in {ns} failed: {proc.stderr.strip()}")


def _sysctl(ns: str, settings: dict[str, str]) -> None:
    args = [f"{k}={v}" for k, v in settings.items()]
    run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", *args])


def create(ns: str, client_ns: str, topo: Topology, origin_ns: str | None = None) -> None:
    for name in (ns, client_ns, *([origin_ns] if topo.origin else [])):
        run(["ip", "netns", "add", name])
    lines = ["link set lo up"]
    for seg_name, seg in topo.segments.items():
        br = bridge_name(seg_name)
        prefix = ipaddress.ip_network(seg["network"]).prefixlen
        lines += [
            # no STP, no snooping: VRRP and sync-daemon multicast must just flood
            f"link add {br} type bridge stp_state 0 mcast_snooping 0 forward_delay 0",
            f"addr add {management_address(seg)}/{prefix} dev {br}",
            f"link set {br} up",
        ]
    for guest in topo.guests:
        for nic in guest.nics:
            tap = tap_name(guest, nic.index)
            lines += [
                f"tuntap add {tap} mode tap",
                f"link set {tap} master {bridge_name(nic.segment)}",
                f"link set {tap} up",
            ]
    lines += [
        # a MAC of its own: a bridge otherwise takes its ports' lowest one, and would
        # change it (the router's, in the clients' ARP caches) as clients are added
        f"link add {CLIENT_BRIDGE} address {CLIENT_ROUTER_MAC} type bridge stp_state 0 "
        "forward_delay 0",
        f"addr add {CLIENT_ROUTER}/{CLIENT_NETWORK.prefixlen} dev {CLIENT_BRIDGE}",
        f"link set {CLIENT_BRIDGE} up",
        f"link add rt-client type veth peer name cl0 netns {client_ns}",
        f"link set rt-client master {CLIENT_BRIDGE} up",
    ]
    # segments without a gateway are private: the client side never reaches them
    lines += [
        f"rule add iif {CLIENT_BRIDGE} to {seg['network']} prohibit priority 100"
        for seg in topo.segments.values()
        if not seg.get("gateway")
    ]
    if topo.origin:
        lines += _origin_router(topo, origin_ns)
    _batch(ns, lines)
    if topo.origin:
        _batch(origin_ns, _origin_host(topo))
    client = ["link set lo up", "link set cl0 up"]
    client += [f"addr add {a}/{CLIENT_NETWORK.prefixlen} dev cl0" for a in CLIENT_ADDRESSES]
    client += [f"route add default via {CLIENT_ROUTER}"]
    _batch(client_ns, client)
    # the lab router forwards; DR and TUN replies come from VIPs it did not route to
    _sysctl(
        ns,
        {
            "net.ipv4.ip_forward": "1",
            "net.ipv4.conf.all.rp_filter": "0",
            "net.ipv4.conf.default.rp_filter": "0",
        },
    )


def _origin_router(topo: Topology, origin_ns: str) -> list[str]:
    origin = topo.origin
    return [
        f"link add {ORIGIN_LINK} type veth peer name or0 netns {origin_ns}",
        f"addr add {origin.router}/{origin.prefixlen} dev {ORIGIN_LINK}",
        f"link set {ORIGIN_LINK} up",
        f"rule add iif {CLIENT_BRIDGE} to {ORIGIN_RANGE} ipproto tcp dport 80 "
        f"lookup {WEB_TABLE} priority {WEB_RULE_PRIORITY}",
        f"route add default via {origin.web_via} table {WEB_TABLE}",
    ]


def _origin_host(topo: Topology) -> list[str]:
    origin = topo.origin
    lines = ["link set lo up", "link set or0 up"]
    lines += [f"addr add {a}/{origin.prefixlen} dev or0" for a in origin.hosts()]
    lines.append(f"route add default via {origin.router}")
    return lines


def add_client(ns: str, single_ns: str, address: str) -> None:
    """A client namespace holding one address only, on the lab's client bridge."""
    if ipaddress.ip_address(address) not in SINGLE_CLIENTS:
        raise LabError(f"a client of its own takes an address in {SINGLE_CLIENTS}, not {address}")
    if single_ns in namespaces():
        return
    run(["ip", "netns", "add", single_ns])
    veth = f"rt-c{ipaddress.ip_address(address).packed[-1]}"
    _batch(
        ns,
        [
            f"link add {veth} type veth peer name cl0 netns {single_ns}",
            f"link set {veth} master {CLIENT_BRIDGE} up",
        ],
    )
    _batch(
        single_ns,
        [
            "link set lo up",
            "link set cl0 up",
            f"addr add {address}/{CLIENT_NETWORK.prefixlen} dev cl0",
            f"route add default via {CLIENT_ROUTER}",
        ],
    )


def destroy(*names: str) -> None:
    """Delete namespaces; their bridges, taps and veths go with them."""
    present = namespaces()
    for name in names:
        if name in present:
            run(["ip", "netns", "del", name])
