"""A real server whose web service dies leaves every pool; when it recovers it returns."""

import time

from conftest import DR, NAT, TUN, wait_for, weights

RS2 = {DR: "192.0.2.22", TUN: "192.0.2.22", NAT: "198.51.100.22"}


def test_dead_web_service_leaves_the_pool_and_returns(lab):
    lab.ssh("systemctl stop nginx", guest="rs2")
    try:
        began = time.monotonic()
        for vip, address in RS2.items():
            wait_for(
                f"rs2 drained on {vip}",
                lambda v=vip, a=address: weights(lab, v)[a] == 0,
                timeout=30,
                interval=0.2,
            )
        print(f"rs2 left all three pools after {time.monotonic() - began:.1f} s")
        # after the check window no client request fails, and none reaches rs2
        for vip in (DR, TUN, NAT):
            result = lab.probe("split", f"http://{vip}/", "--count", "12")
            assert result["errors"] == [], vip
            assert "rs2" not in result["servers"], vip
    finally:
        lab.ssh("systemctl start nginx", guest="rs2")
    began = time.monotonic()
    for vip, address in RS2.items():
        wait_for(
            f"rs2 back on {vip}",
            lambda v=vip, a=address: weights(lab, v)[a] > 0,
            timeout=30,
            interval=0.2,
        )
    print(f"rs2 back in all pools after {time.monotonic() - began:.1f} s")
    result = lab.probe("split", f"http://{DR}/", "--count", "9")
    assert result["errors"] == [] and result["servers"].get("rs2") == 3


def test_the_notifier_logged_the_drain_and_the_return(lab):
    # keepalived's notify_down/notify_up ran lvs-notify on both directors
    for director in ("dir1", "dir2"):
        log = lab.ssh("cat /var/log/lvs-notify.log", guest=director).stdout
        for event in ("DOWN", "UP"):
            for service in ("web-http-dr", "web-http-tun", "web-http-nat"):
                assert f" {event} {service} rs2" in log, (director, event, service)
