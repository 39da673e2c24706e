"""Preflight validator: facts (model + inventory) in, error messages out."""

import model_api as topo
import pytest
from topology_cases import groups, hosts, model

_DROP = object()


def _node(tree, key):
    if isinstance(tree, list) and isinstance(key, str):
        return next(item for item in tree if item.get("name", item.get("host")) == key)
    return tree[key]


def put(*path, value=_DROP):
    """A mutation that sets (or with no value, deletes) the item at path in the model."""

    def mutate(m, h, g):
        node = m
        for key in path[:-1]:
            node = _node(node, key)
        if value is _DROP:
            del node[path[-1]]
        else:
            node[path[-1]] = value

    return mutate


def inv(fn):
    """A mutation of the inventory (hosts, groups)."""
    return lambda m, h, g: fn(h, g)


def both(*mutations):
    def mutate(m, h, g):
        for mutation in mutations:
            mutation(m, h, g)

    return mutate


HTTPS = ("services", "web-https")
HTTP = ("services", "web-http-dr")
NAT = ("services", "web-http-nat")
FWM = ("services", "media-rtsp")


# the media servers run the collection's media application instead of their own
def MEDIA(m, h, g):
    del m["applications"]["rtsp"]
    m["applications"]["media"] = {"hosts": ["rs1", "rs2"]}


# (case id, mutation, expected message fragment)
BAD = [
    ("vip-outside-director-networks",
     put(*HTTPS, "vip", value="203.0.113.50"),
     "service web-https: VIP 203.0.113.50 is outside every director network"),
    ("vip-entry-outside-networks",
     put("vips", "web-tun", "address", value="203.0.113.7"),
     "vip web-tun: 203.0.113.7 is outside every director network"),
    ("vip-not-in-its-segment",
     put("vips", "web-tun", "address", value="198.51.100.77"),
     "vip web-tun: 198.51.100.77 is not in segment front (192.0.2.0/24)"),
    ("vip-undeclared",
     put(*HTTPS, "vip", value="192.0.2.99"),
     "service web-https: VIP 192.0.2.99 is not declared in lvs_vips"),
    ("vip-unknown-name",
     put(*HTTPS, "vip", value="nosuch"),
     "service web-https: VIP 'nosuch' is neither a VIP name"),
    ("vip-is-host-address",
     put("vips", "web-tun", "address", value="192.0.2.21"),
     "vip web-tun: 192.0.2.21 is already an address of host rs1"),
    ("vip-is-router",
     put("vips", "web-tun", "address", value="192.0.2.1"),
     "vip web-tun: 192.0.2.1 is already the gateway of segment front"),
    ("vip-duplicate-address",
     put("vips", "web-tun", "address", value="192.0.2.100"),
     "vip web-tun: 192.0.2.100 is already vip web-dr"),
    ("vip-bad-address",
     put("vips", "web-tun", "address", value="192.0.2.300"),
     "vip web-tun: address '192.0.2.300' is not an IP address"),
    ("vip-unknown-segment",
     put("vips", "web-tun", "segment", value="dmz"),
     "vip web-tun: unknown segment 'dmz'"),
    ("vip-two-nat-gateways",
     put("vips", "web-tun", "nat_gateway", value=True),
     "only one VIP can be the NAT gateway"),
    ("vip-without-vrrp-instance",
     put("vrrp", "instances", value=[{"name": "f", "segment": "front", "virtual_router_id": 5}]),
     "vip inside: no VRRP instance on segment back to hold it"),
    ("duplicate-vip-port-protocol",
     put(*HTTPS, "port", value=80),
     "service web-https: 192.0.2.100:80/tcp is already service web-http-dr"),
    ("duplicate-vip-port-by-address",
     both(put(*NAT, "vip", value="192.0.2.100"), put(*NAT, "method", value="dr"),
          put(*NAT, "real_servers", value=[{"host": "rs1"}])),
     "service web-http-nat: 192.0.2.100:80/tcp is already service web-http-dr"),
    ("duplicate-service-name",
     put(*HTTPS, "name", value="web-http-dr"),
     "service web-http-dr: the name is used twice"),
    ("duplicate-fwmark",
     put(*HTTP, "port", value=_DROP),
     None),  # replaced below
    ("fwmark-with-port",
     put(*FWM, "port", value=554),
     "service media-rtsp: fwmark 1 with a port or protocol"),
    ("fwmark-out-of-range",
     put(*FWM, "fwmark", value=0),
     "service media-rtsp: fwmark 0 must be 1..4294967295"),
    ("fwmark-without-match",
     put(*FWM, "fwmark_match"),
     "service media-rtsp: fwmark 1 needs fwmark_match"),
    ("fwmark-match-bad-range",
     put(*FWM, "fwmark_match", 1, "port", value="6999:6970"),
     "fwmark_match port '6999:6970' must be 1..65535 or a range"),
    ("transparent-destination-holds-a-segment",
     put(*FWM, "fwmark_match", 0, "destinations", value=["192.0.0.0/16"]),
     "service media-rtsp: destination 192.0.0.0/16 overlaps segment front (192.0.2.0/24): "
     "the directors would take traffic to the cluster's own hosts"),
    ("transparent-destination-host-bits",
     put(*FWM, "fwmark_match", 0, "destinations", value=["198.18.0.1/15"]),
     "service media-rtsp: fwmark_match destination '198.18.0.1/15': 198.18.0.1/15 has host "
     "bits set"),
    ("transparent-destinations-not-a-list",
     put(*FWM, "fwmark_match", 0, "destinations", value="198.18.0.0/15"),
     "service media-rtsp: fwmark_match destinations must be a list of networks"),
    ("transparent-destination-other-family",
     put(*FWM, "fwmark_match", 0, "destinations", value=["2001:db8:1::/48"]),
     "service media-rtsp: destination 2001:db8:1::/48 is not of the VIP's address family"),
    ("transparent-with-nat",
     both(put(*FWM, "fwmark_match", 0, "destinations", value=["198.18.0.0/15"]),
          put(*FWM, "method", value="nat")),
     "service media-rtsp: destinations with NAT: the real servers must see the address the "
     "client asked for (use tun or dr)"),
    ("fwmark-match-unknown-key",
     put(*FWM, "fwmark_match", 0, "to", value=["198.18.0.0/15"]),
     "service media-rtsp fwmark_match: unknown key 'to' (known: destinations, port, protocol)"),
    ("fwmark-real-server-port",
     put(*FWM, "real_servers", 0, "port", value=554),
     "service media-rtsp: real server rs1: port 554 on a fwmark service"),
    ("fwmark-http-check-without-port",
     put(*FWM, "check", value={"type": "HTTP_GET"}),
     "service media-rtsp: HTTP_GET on a fwmark service needs a checker port"),
    ("unknown-protocol",
     put(*HTTP, "protocol", value="icmp"),
     "service web-http-dr: unknown protocol 'icmp'"),
    ("port-out-of-range",
     put(*HTTP, "port", value=70000),
     "service web-http-dr: port 70000 must be 1..65535"),
    ("unknown-scheduler",
     put(*HTTP, "scheduler", value="random"),
     "service web-http-dr: unknown scheduler 'random'"),
    ("unknown-method",
     put(*HTTP, "method", value="fullnat"),
     "service web-http-dr: unknown forwarding method 'fullnat'"),
    ("weight-too-high",
     put(*HTTP, "real_servers", "rs2", "weight", value=65536),
     "service web-http-dr: real server rs2: weight 65536 is out of range 0..65535"),
    ("weight-negative",
     put(*HTTP, "real_servers", "rs2", "weight", value=-1),
     "real server rs2: weight -1 is out of range"),
    ("weight-not-integer",
     put(*HTTP, "real_servers", "rs2", "weight", value="heavy"),
     "real server rs2: weight 'heavy' is out of range"),
    ("dr-port-translation",
     put(*HTTP, "real_servers", "rs1", "port", value=8080),
     "service web-http-dr: real server rs1: port 8080 differs from the service port 80: "
     "DR cannot translate ports"),
    ("tun-port-translation",
     put("services", "web-http-tun", "real_servers", "rs3", "port", value=81),
     "real server rs3: port 81 differs from the service port 80: TUN cannot translate"),
    ("real-server-port-range",
     put(*NAT, "real_servers", "rs1", "port", value=0),
     "service web-http-nat: real server rs1: port 0 must be 1..65535"),
    ("nat-without-inside-vip",
     put("vips", "inside", "nat_gateway", value=False),
     "service web-http-nat: NAT needs an inside VIP as the real servers' gateway"),
    ("nat-gateway-not-on-director-segment",
     both(put("vips", "inside", "address", value="203.0.113.1"), put("vips", "inside", "segment")),
     "vip inside: 203.0.113.1 is outside every director network"),
    ("nat-real-server-off-gateway-segment",
     inv(lambda h, g: h["rs2"]["lvs_interfaces"].pop()),
     "service web-http-nat: real server rs2: no address on segment back of the NAT gateway "
     "198.51.100.1"),
    ("nat-vip-on-gateway-segment",
     both(put("vips", "web-nat", "address", value="198.51.100.2"),
          put("vips", "web-nat", "segment", value="back"), put(*NAT, "vip", value="web-nat")),
     "NAT VIP 198.51.100.2 is on segment back, the same segment as the NAT gateway"),
    ("nat-service-on-gateway-vip",
     put(*NAT, "vip", value="inside"),
     "service web-http-nat: the NAT gateway VIP inside cannot carry services"),
    ("dr-real-server-off-vip-segment",
     inv(lambda h, g: h["rs3"]["lvs_interfaces"].pop(0)),
     "service web-http-dr: real server rs3: no address on segment front of VIP 192.0.2.100"),
    ("real-server-not-in-inventory",
     put(*HTTP, "real_servers", "rs3", "host", value="rs9"),
     "service web-http-dr: real server rs9 is not in the inventory"),
    ("real-server-not-in-group",
     inv(lambda h, g: g["realservers"].remove("rs3")),
     "service web-http-dr: real server rs3 is not in the 'realservers' group"),
    ("real-server-twice",
     put(*HTTP, "real_servers", 1, "host", value="rs1"),
     "service web-http-dr: real server rs1 is listed twice"),
    ("real-server-unknown-segment",
     put(*HTTP, "real_servers", "rs1", "segment", value="dmz"),
     "real server rs1: unknown segment 'dmz'"),
    ("service-without-real-servers",
     put(*HTTP, "real_servers", value=[]),
     "service web-http-dr: has no real servers"),
    ("persistence-netmask-invalid",
     put(*HTTPS, "persistence", "netmask", value="255.0.255.0"),
     "service web-https: persistence netmask '255.0.255.0' is invalid"),
    ("persistence-prefix-too-long",
     put(*HTTPS, "persistence", "netmask", value=33),
     "service web-https: persistence netmask 33 is invalid"),
    ("persistence-timeout-zero",
     put(*HTTPS, "persistence", "timeout", value=0),
     "service web-https: persistence timeout 0 must be a positive number"),
    ("sorry-server-bad-address",
     put(*HTTPS, "sorry_server", "address", value="sorry.example"),
     "service web-https: sorry server address 'sorry.example' is not an IP address"),
    ("sorry-server-bad-port",
     put(*HTTPS, "sorry_server", "port", value=0),
     "service web-https: sorry server port 0 must be 1..65535"),
    ("quorum-above-pool",
     put(*HTTP, "quorum", value=4),
     "service web-http-dr: quorum 4 can never be met: the real servers' weights add up to 3"),
    ("quorum-zero",
     put(*HTTP, "quorum", value=0),
     "service web-http-dr: quorum 0 must be a positive integer"),
    ("unknown-check-type",
     put(*HTTP, "check", "type", value="PING_CHECK"),
     "service web-http-dr: unknown check type 'PING_CHECK'"),
    ("checker-port-out-of-range",
     put("services", "web-http-tun", "check", "port", value=65536),
     "service web-http-tun: checker port 65536 is out of range 1..65535"),
    ("check-timeout-zero",
     put(*HTTP, "check", "connect_timeout", value=0),
     "service web-http-dr: check connect_timeout 0 must be a number of seconds above 0"),
    ("check-bad-path",
     put(*HTTP, "check", "path", value="index.html"),
     "service web-http-dr: check path 'index.html' must start with '/'"),
    ("check-bad-status",
     put(*HTTP, "check", "status_code", value=999),
     "service web-http-dr: check status_code 999 must be 100..599"),
    ("misc-check-without-path",
     put(*NAT, "check", "misc_path"),
     "service web-http-nat: MISC_CHECK needs misc_path"),
    ("misc-option-on-tcp-check",
     put("services", "web-http-tun", "check", "misc_path", value="/bin/true"),
     "service web-http-tun: check misc_path is only for MISC_CHECK"),
    ("unknown-service-key",
     put(*HTTP, "schedular", value="rr"),
     "service web-http-dr: unknown key 'schedular'"),
    ("unknown-check-key",
     put(*HTTP, "check", "url", value="/"),
     "service web-http-dr check: unknown key 'url'"),
    ("inhibit-not-bool",
     put(*HTTP, "inhibit_on_failure", value="yes"),
     "service web-http-dr: inhibit_on_failure 'yes' must be true or false"),
    ("missing-peer-director",
     inv(lambda h, g: g["directors"].remove("dir2")),
     "missing peer director: keepalived (HA) mode needs two directors, found dir1"),
    ("director-not-in-group",
     put("vrrp", "directors", value=["dir1", "rs1"]),
     "director rs1 is not in the 'directors' group"),
    ("director-not-in-inventory",
     put("vrrp", "directors", value=["dir1", "dir9"]),
     "director dir9 is not in the inventory"),
    ("host-in-both-tiers",
     inv(lambda h, g: g["realservers"].append("dir2")),
     "host dir2 is both a director and a real server"),
    ("cluster-name-not-a-name",
     put("cluster_name", value="my web"),
     "lvs_cluster_name 'my web' must be a name"),
    ("obsolete-topology-label",
     put("topology", value="web"),
     "lvs_topology is no longer read"),
    ("obsolete-web-key",
     put("web", value={"document_root_share": "www"}),
     "lvs_web is no longer read: put the document root share under "
     "lvs_applications.web.shares.document_root"),
    # applications: what reaches each real server
    ("service-nothing-serves",
     put("applications", "proxy", value={"managed": False, "hosts": ["rs1", "rs2"],
                                         "listen": [{"protocol": "tcp", "port": 8080}]}),
     "service web-http-nat: nothing on real server rs3 serves tcp/8080 (applications there: "
     "web tcp/80, web tcp/443; declare one in lvs_applications)"),
    ("service-fwmark-range-half-served",
     put("applications", "rtsp", "listen", value=[{"protocol": "tcp", "port": 554},
                                                  {"protocol": "udp", "port": "6970:6980"}]),
     "service media-rtsp: nothing on real server rs1, rs2 serves udp/6970:6999"),
    ("service-udp-is-not-tcp",
     put("applications", "rtsp", "listen", value=[{"protocol": "udp", "port": 554},
                                                  {"protocol": "udp", "port": "6970:6999"}]),
     "service media-rtsp: nothing on real server rs1, rs2 serves tcp/554"),
    ("service-on-a-moved-port",
     put("applications", "web", "ports", value={"http": 8000}),
     "service web-http-dr: nothing on real server rs1, rs2, rs3 serves tcp/80"),
    ("application-unknown-role",
     put("applications", "web", "role", value="nginx"),
     "application web: 'nginx' is not an application of the collection (known: cache, media, web)"),
    ("media-range-too-small-for-sessions",
     both(MEDIA, put("applications", "media", "settings", value={"media_max_sessions": 16})),
     "application media: the RTP ports 6970:6999 hold 15 RTP/RTCP pair(s), fewer than "
     "media_max_sessions 16"),
    ("media-rtp-port-not-a-range",
     both(MEDIA, put("applications", "media", "ports", value={"rtp": "7000"})),
     "application media: port rtp '7000' must be 'FIRST:LAST' in 1..65535"),
    ("media-service-without-the-udp-range",
     both(MEDIA, put(*FWM, "fwmark_match", value=[{"protocol": "tcp", "port": 554}])),
     "service media-rtsp: carries RTSP (tcp/554) to media servers but not their RTP/RTCP "
     "ports udp/6970:6999"),
    ("media-service-udp-range-moved",
     both(MEDIA, put("applications", "media", "ports", value={"rtp": "7000:7029"})),
     "service media-rtsp: carries RTSP (tcp/554) to media servers but not their RTP/RTCP "
     "ports udp/7000:7029"),
    ("sync-version-0-with-fwmark-and-persistence",
     put("sysctls", "sync_version", value=0),
     "service media-rtsp: sync_version 0 does not sync fwmark or persistence connections"),
    ("rtsp-check-on-fwmark-without-port",
     put(*FWM, "check", value={"type": "RTSP_CHECK"}),
     "service media-rtsp: RTSP_CHECK on a fwmark service needs a checker port"),
    ("application-unknown-name-without-role",
     put("applications", "ftp", value={"hosts": ["rs1"]}),
     "application ftp: 'ftp' is not an application of the collection"),
    ("application-unknown-host",
     put("applications", "web", "hosts", value=["realservers", "rs9"]),
     "application web: hosts: unknown host or group 'rs9'"),
    ("application-no-hosts",
     put("applications", "web", "hosts", value=[]),
     "application web: hosts: must name hosts or groups of the inventory"),
    ("application-unknown-key",
     put("applications", "web", "port", value=80),
     "application web: unknown key 'port'"),
    ("application-unknown-port-name",
     put("applications", "web", "ports", value={"ssl": 8443}),
     "application web: unknown port 'ssl' (known: http, https)"),
    ("application-bad-port",
     put("applications", "web", "ports", value={"https": 70000}),
     "application web: port https 70000 must be 1..65535"),
    ("application-unknown-setting",
     put("applications", "web", "settings", value={"web_http_port": 81}),
     "application web: setting 'web_http_port' is not one the model may set"),
    ("application-share-without-storage",
     put("applications", "web", "shares", value={"document_root": "www"}),
     "application web: document_root share 'www' is not a share of lvs_storage"),
    ("application-unknown-share-purpose",
     put("applications", "web", "shares", value={"logs": "www"}),
     "application web: unknown share purpose 'logs' (known: document_root)"),
    ("unmanaged-without-listen",
     put("applications", "proxy", "listen", value=[]),
     "application proxy: an application managed outside the collection needs listen ports"),
    ("unmanaged-with-a-role",
     put("applications", "proxy", "role", value="web"),
     "application proxy: role is for applications of the collection"),
    ("unmanaged-bad-listen",
     put("applications", "proxy", "listen", value=[{"protocol": "icmp", "port": 1}]),
     "application proxy: listen protocol 'icmp' is unknown"),
    ("unmanaged-bad-range",
     put("applications", "proxy", "listen", value=[{"protocol": "tcp", "port": "90:80"}]),
     "application proxy: listen port '90:80' must be 1..65535 or 'FIRST:LAST'"),
    ("two-applications-one-port",
     put("applications", "proxy", "listen", value=[{"protocol": "tcp", "port": "8000:8080"},
                                                   {"protocol": "tcp", "port": 443}]),
     "host rs1: applications web and proxy both listen on tcp/443"),
    ("applications-not-a-mapping",
     put("applications", value=["web"]),
     "lvs_applications must map application names to {hosts, ...}"),
    ("unknown-mode",
     put("mode", value="active"),
     "lvs_mode 'active' is unknown"),
    ("vrrp-router-id-zero",
     put("vrrp", "instances", 0, "virtual_router_id", value=0),
     "vrrp instance front: virtual_router_id 0 must be 1..255"),
    ("vrrp-router-id-256",
     put("vrrp", "instances", 1, "virtual_router_id", value=256),
     "vrrp instance back: virtual_router_id 256 must be 1..255"),
    ("vrrp-router-id-duplicate",
     put("vrrp", "instances", value=[
         {"name": "a", "segment": "front", "virtual_router_id": 51},
         {"name": "b", "segment": "back", "virtual_router_id": 52},
         {"name": "c", "segment": "front", "virtual_router_id": 51},
     ]),
     "vrrp instance c: virtual_router_id 51 is already used by a on segment front"),
    ("vrrp-instance-unknown-segment",
     put("vrrp", "instances", 1, "segment", value="dmz"),
     "vrrp instance back: unknown segment 'dmz'"),
    ("vrrp-director-without-interface",
     inv(lambda h, g: h["dir2"]["lvs_interfaces"].pop()),
     "vrrp instance back: director dir2 has no interface on segment back"),
    ("vrrp-without-instances",
     put("vrrp", "instances", value=[]),
     "vrrp: instances is empty"),
    ("vrrp-missing",
     put("vrrp"),
     "lvs_vrrp is missing: keepalived mode needs VRRP settings"),
    ("priorities-equal",
     both(put("vrrp", "master"), put("vrrp", "priorities", value={"dir1": 100, "dir2": 100})),
     "vrrp: priorities are equal"),
    ("priority-out-of-range",
     put("vrrp", "priorities", value={"dir1": 255, "dir2": 100}),
     "vrrp: priority 255 of dir1 must be 1..254"),
    ("priority-missing-director",
     put("vrrp", "priorities", value={"dir1": 150}),
     "vrrp: director dir2 has no priority"),
    ("master-not-highest",
     put("vrrp", "priorities", value={"dir1": 100, "dir2": 150}),
     "vrrp: master dir1 does not have the highest priority"),
    ("master-not-director",
     put("vrrp", "master", value="rs1"),
     "vrrp: master rs1 is not a director"),
    ("advert-int-zero",
     put("vrrp", "advert_int", value=0),
     "vrrp: advert_int 0 must be a number of seconds above 0"),
    ("advert-int-negative",
     put("vrrp", "advert_int", value=-1),
     "vrrp: advert_int -1 must be a number of seconds above 0"),
    ("sub-second-advert-with-v2",
     put("vrrp", "version", value=2),
     "vrrp: advert_int 0.1 is sub-second, which needs VRRP version 3"),
    ("vrrp-version-unknown",
     put("vrrp", "version", value=4),
     "vrrp: version 4 must be 2 or 3"),
    ("auth-with-vrrpv3",
     put("vrrp", "auth", value={"type": "PASS", "pass": "secret"}),
     "vrrp: auth is only for VRRP version 2 (VRRPv3 has no authentication)"),
    ("auth-v2-password-too-long",
     both(put("vrrp", "version", value=2), put("vrrp", "advert_int", value=1),
          put("vrrp", "auth", value={"type": "PASS", "pass": "123456789"})),
     "vrrp: auth pass must be 1..8 characters"),
    ("auth-v2-unknown-type",
     both(put("vrrp", "version", value=2), put("vrrp", "advert_int", value=1),
          put("vrrp", "auth", value={"type": "MD5", "pass": "x"})),
     "vrrp: auth needs type PASS or AH"),
    ("unicast-peer-not-director",
     both(put("vrrp", "unicast", value=True), put("vrrp", "unicast_peers", value=["dir1", "rs1"])),
     "vrrp: unicast peer rs1 is not a director"),
    ("unicast-peers-without-unicast",
     put("vrrp", "unicast_peers", value=["dir1", "dir2"]),
     "vrrp: unicast_peers is set but unicast is false"),
    ("preempt-delay-without-preempt",
     put("vrrp", "preempt", value=False),
     "vrrp: preempt_delay 15 has no effect with preempt: false"),
    ("preempt-delay-too-long",
     put("vrrp", "preempt_delay", value=5000),
     "vrrp: preempt_delay 5000 must be 0..1000 seconds"),
    ("unknown-vrrp-key",
     put("vrrp", "advert", value=1),
     "lvs_vrrp: unknown key 'advert'"),
    ("segment-bad-network",
     put("segments", "back", "network", value="198.51.100.1/24"),
     "segment back: network '198.51.100.1/24' is not a valid network"),
    ("segment-gateway-outside",
     put("segments", "front", "gateway", value="203.0.113.1"),
     "segment front: gateway 203.0.113.1 is not in 192.0.2.0/24"),
    ("segments-missing",
     put("segments"),
     "lvs_segments is missing"),
    ("host-unknown-segment",
     inv(lambda h, g: h["rs1"]["lvs_interfaces"].append(
         {"name": "eth2", "segment": "storage", "address": "10.0.0.1/24"})),
     "host rs1 eth2: unknown segment 'storage'"),
    ("host-address-outside-segment",
     inv(lambda h, g: h["rs1"]["lvs_interfaces"][1].update(address="10.0.0.1/24")),
     "host rs1 eth1: 10.0.0.1/24 is not in segment back (198.51.100.0/24)"),
    ("sync-unknown-segment",
     put("sync", "segment", value="dmz"),
     "sync daemon: unknown segment 'dmz'"),
    ("sync-bad-syncid",
     put("sync", "syncid", value=256),
     "sync daemon: syncid 256 must be 0..255"),
    ("timeout-negative",
     put("timeouts", "tcp", value=-5),
     "timeout tcp: -5 must be a number of seconds, 0 or more"),
    ("timeout-unknown",
     put("timeouts", "icmp", value=5),
     "timeout icmp: unknown"),
    ("dos-sysctl-out-of-range",
     put("sysctls", "drop_entry", value=4),
     "sysctl net.ipv4.vs.drop_entry: 4 must be 0..3"),
    ("sysctl-unknown",
     put("sysctls", "drop_everything", value=1),
     "sysctl net.ipv4.vs.drop_everything: unknown"),
    ("sync-threshold-invalid",
     put("sysctls", "sync_threshold", value=[50, 3]),
     "sysctl net.ipv4.vs.sync_threshold: [50, 3] must be two integers"),
]  # fmt: skip

# a second fwmark service with the same mark as media-rtsp
BAD[[c[0] for c in BAD].index("duplicate-fwmark")] = (
    "duplicate-fwmark",
    lambda m, h, g: m["services"].append(
        {
            "name": "media-rtsp2",
            "vip": "media",
            "fwmark": 1,
            "fwmark_match": [{"protocol": "tcp", "port": 8554}],
            "real_servers": [{"host": "rs3"}],
        }
    ),
    "service media-rtsp2: fwmark 1 is already service media-rtsp (duplicate fwmark)",
)


def _run(mutation):
    m, h, g = model(), hosts(), groups()
    mutation(m, h, g)
    return topo.validate(m, h, g)


def test_base_model_is_valid():
    assert topo.validate(model(), hosts(), groups()) == []


@pytest.mark.parametrize(("mutation", "expected"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_invalid_model_is_reported(mutation, expected):
    errors = _run(mutation)
    assert any(expected in e for e in errors), f"{expected!r} not in {errors}"


def test_case_ids_are_unique():
    ids = [c[0] for c in BAD]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 25


# sound variations: each must be accepted (no-op cases)
GOOD = [
    ("static-single-director",
     both(put("mode", value="static"), put("vrrp"),
          inv(lambda h, g: g["directors"].remove("dir2")))),
    ("vrrpv2-with-auth",
     both(put("vrrp", "version", value=2), put("vrrp", "advert_int", value=1),
          put("vrrp", "auth", value={"type": "PASS", "pass": "s3cret"}))),
    ("unicast-between-directors",
     both(put("vrrp", "unicast", value=True),
          put("vrrp", "unicast_peers", value=["dir1", "dir2"]))),
    ("priorities-instead-of-master",
     both(put("vrrp", "master"), put("vrrp", "priorities", value={"dir1": 200, "dir2": 100}))),
    ("no-preempt",
     both(put("vrrp", "preempt", value=False), put("vrrp", "preempt_delay", value=0))),
    ("weight-zero-drains", put(*HTTP, "real_servers", "rs1", "weight", value=0)),
    ("weight-max", put(*HTTP, "real_servers", "rs1", "weight", value=65535)),
    ("nat-port-translation", both(
        put(*NAT, "real_servers", "rs1", "port", value=8081),
        put("applications", "proxy", "listen", value=[{"protocol": "tcp", "port": "8080:8081"}]))),
    ("real-server-port-defaults-to-service", put(*HTTP, "real_servers", "rs1", "port")),
    ("persistence-prefix-length", put(*HTTPS, "persistence", "netmask", value=24)),
    ("sorry-server-as-string", put(*HTTPS, "sorry_server", value="192.0.2.30")),
    ("udp-and-sctp", both(put("services", "web-http-tun", "protocol", value="sctp"),
                          put(*HTTP, "protocol", value="udp"), put(*HTTP, "check"),
                          put("applications", "dgram", value={
                              "managed": False, "hosts": "realservers",
                              "listen": [{"protocol": "udp", "port": 80},
                                         {"protocol": "sctp", "port": 80}]}))),
    ("every-scheduler", lambda m, h, g: [
        m["services"].append({**m["services"][0], "name": f"s-{s}", "port": 1000 + i,
                              "scheduler": s, "real_servers": [{"host": "rs1"}]})
        for i, s in enumerate(topo.SCHEDULERS)] + [m["applications"].update(
            many={"managed": False, "hosts": ["rs1"],
                  "listen": [{"protocol": "tcp", "port": "1000:1099"}]})]),
    ("vip-segment-inferred", put("vips", "web-tun", "segment")),
    ("same-router-id-on-other-segment", put("vrrp", "instances", 1, "virtual_router_id", value=51)),
    ("sync-disabled", put("sync", "enabled", value=False)),
    ("sync-threshold-as-string", put("sysctls", "sync_threshold", value="3 50")),
    ("sync-threshold-time-driven", both(put("sysctls", "sync_threshold", value=[3, 0]),
                                        put("sysctls", "sync_refresh_period", value=5))),
    ("no-services", both(put("services", value=[]), put("vips", value=[]))),
    ("media-application", MEDIA),
    ("media-application-with-rtsp-check", both(
        MEDIA, put(*FWM, "check", value={"type": "RTSP_CHECK", "port": 554}))),
    ("media-range-exactly-holds-the-sessions", both(
        MEDIA, put("applications", "media", "settings", value={"media_max_sessions": 15}))),
]  # fmt: skip


@pytest.mark.parametrize("mutation", [c[1] for c in GOOD], ids=[c[0] for c in GOOD])
def test_sound_variation_is_accepted(mutation):
    assert _run(mutation) == []


def test_all_errors_reported_at_once():
    m, h, g = model(), hosts(), groups()
    m["services"][0]["scheduler"] = "random"
    m["services"][1]["real_servers"][0]["weight"] = 70000
    m["vrrp"]["advert_int"] = 0
    errors = topo.validate(m, h, g)
    assert len(errors) == 3, errors


def test_inventory_types_from_subclasses():
    """Inventory values arrive as str/dict subclasses; plain() gives builtin types."""

    class Tagged(str):
        pass

    out = topo.plain({Tagged("a"): [Tagged("b"), 1, True, None, 0.5]})
    assert out == {"a": ["b", 1, True, None, 0.5]}
    assert type(next(iter(out))) is str and type(out["a"][0]) is str


def test_model_from_vars():
    variables = {"lvs_vrrp": {"version": 3}, "lvs_services": [], "other": 1}
    assert topo.model_from_vars(variables) == {"vrrp": {"version": 3}, "services": []}


def test_hosts_must_see_one_model():
    same = {"dir1": model(), "dir2": model(), "rs1": model()}
    assert topo.disagreements(same) == []
    assert topo.disagreements({}) == []
    other = model()
    other["services"][0]["scheduler"] = "wrr"
    del other["sync"]
    errors = topo.disagreements({"dir1": model(), "dir2": other})
    assert errors == [
        "host dir2 sees a different lvs_services than dir1: the model belongs in group_vars/all",
        "host dir2 sees a different lvs_sync than dir1: the model belongs in group_vars/all",
    ]
