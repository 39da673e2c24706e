"""A sound base model and inventory for the topology tests (web-like, built in Python)."""

import copy

IFACES = {
    "dir1": 11,
    "dir2": 12,
    "rs1": 21,
    "rs2": 22,
    "rs3": 23,
}


def hosts() -> dict:
    return {
        name: {
            "ansible_host": f"192.0.2.{n}",
            "lvs_interfaces": [
                {"name": "eth0", "segment": "front", "address": f"192.0.2.{n}/24"},
                {"name": "eth1", "segment": "back", "address": f"198.51.100.{n}/24"},
            ],
        }
        for name, n in IFACES.items()
    }


def groups() -> dict:
    return {"directors": ["dir1", "dir2"], "realservers": ["rs1", "rs2", "rs3"]}


def pool(port=80, weights=(1, 1, 1)) -> list:
    return [
        {"host": h, "port": port, "weight": w}
        for h, w in zip(("rs1", "rs2", "rs3"), weights, strict=True)
    ]


BASE = {
    "cluster_name": "web",
    "segments": {
        "front": {"network": "192.0.2.0/24", "gateway": "192.0.2.1"},
        "back": {"network": "198.51.100.0/24"},
    },
    "mode": "keepalived",
    "vrrp": {
        "version": 3,
        "master": "dir1",
        "advert_int": 0.1,
        "preempt": True,
        "preempt_delay": 15,
        "unicast": False,
        "instances": [
            {"name": "front", "segment": "front", "virtual_router_id": 51},
            {"name": "back", "segment": "back", "virtual_router_id": 52},
        ],
    },
    "vips": [
        {"name": "web-dr", "address": "192.0.2.100", "segment": "front"},
        {"name": "web-tun", "address": "192.0.2.101", "segment": "front"},
        {"name": "web-nat", "address": "192.0.2.102", "segment": "front"},
        {"name": "inside", "address": "198.51.100.1", "segment": "back", "nat_gateway": True},
        {"name": "media", "address": "192.0.2.110"},
    ],
    "services": [
        {
            "name": "web-http-dr",
            "vip": "web-dr",
            "protocol": "tcp",
            "port": 80,
            "scheduler": "rr",
            "method": "dr",
            "quorum": 1,
            "check": {"type": "HTTP_GET", "path": "/", "status_code": 200},
            "real_servers": pool(),
        },
        {
            "name": "web-https",
            "vip": "web-dr",
            "protocol": "tcp",
            "port": 443,
            "scheduler": "rr",
            "method": "dr",
            "persistence": {"timeout": 300, "netmask": "255.255.255.0"},
            "sorry_server": {"address": "192.0.2.30", "port": 443},
            "check": {"type": "SSL_GET", "path": "/", "connect_timeout": 1},
            "real_servers": pool(443),
        },
        {
            "name": "web-http-tun",
            "vip": "web-tun",
            "port": 80,
            "scheduler": "wrr",
            "method": "tun",
            "check": {"type": "TCP_CHECK", "port": 80},
            "real_servers": pool(80, (3, 2, 1)),
        },
        {
            "name": "web-http-nat",
            "vip": "192.0.2.102",
            "protocol": "tcp",
            "port": 80,
            "scheduler": "rr",
            "method": "nat",
            "check": {"type": "MISC_CHECK", "misc_path": "/usr/bin/true", "misc_timeout": 3},
            "real_servers": pool(8080),
        },
        {
            "name": "media-rtsp",
            "vip": "media",
            "fwmark": 1,
            "fwmark_match": [
                {"protocol": "tcp", "port": 554},
                {"protocol": "udp", "port": "6970:6999"},
            ],
            "scheduler": "lc",
            "method": "dr",
            "persistence": {"timeout": 600},
            "check": {"type": "TCP_CHECK", "port": 554},
            "real_servers": [{"host": "rs1"}, {"host": "rs2", "weight": 2}],
        },
    ],
    "sync": {"enabled": True, "segment": "back", "syncid": 51},
    "timeouts": {"tcp": 900, "tcp_fin": 120, "udp": 300},
    "sysctls": {
        "drop_entry": 1,
        "drop_packet": 1,
        "secure_tcp": 1,
        "amemthresh": 1024,
        "sync_threshold": [3, 50],
    },
    "applications": {
        "web": {"hosts": ["realservers"]},
        # the NAT pool's servers answer on 8080, the media servers on RTSP and RTP
        "proxy": {
            "managed": False,
            "hosts": ["realservers"],
            "listen": [{"protocol": "tcp", "port": 8080}],
        },
        "rtsp": {
            "managed": False,
            "hosts": ["rs1", "rs2"],
            "listen": [{"protocol": "tcp", "port": 554}, {"protocol": "udp", "port": "6970:6999"}],
        },
    },
}


def model() -> dict:
    return copy.deepcopy(BASE)


def service(m: dict, name: str) -> dict:
    return next(s for s in m["services"] if s["name"] == name)
