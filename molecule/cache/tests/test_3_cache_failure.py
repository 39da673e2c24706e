"""A cache crashes (power cut): its destinations move to the other caches, no request
fails once the health check has taken it out, and it rejoins the pool after a boot.

Window: HTTP_GET every delay_loop 2 s, connect_timeout 1 s, retry 0: the cache leaves
the pool at most 3 s (+1 s margin) after it stops answering; connections still held to
it are dropped at their next packet (expire_nodest_conn). keepalived keeps a failed
server in the table with weight 0 (inhibit_on_failure), so no new connection goes to it."""

import time

from conftest import CACHES, ORIGINS, fetch, squid_log, url_set, wait_for

WINDOW_S = 2 + 1 + 1
ADDRESS = {"cache1": "192.0.2.41", "cache2": "192.0.2.42", "cache3": "198.51.100.141"}


def pool(lab) -> set[str]:
    """The caches the director sends to: in the table with a weight above 0 (a failed
    one stays with weight 0, inhibit_on_failure)."""
    out = set()
    for line in lab.ssh("ipvsadm -Ln", guest="dir1").stdout.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[0] == "->" and parts[3].isdigit() and int(parts[3]) > 0:
            out |= {c for c, a in ADDRESS.items() if parts[1] == f"{a}:0"}
    return out


def test_a_crashed_cache_leaves_and_rejoins(lab):
    victim = "cache2"
    owned = sorted({e["url"].split("/")[2] for e in squid_log(lab, victim)} & set(ORIGINS))
    assert owned, "the victim served no origin address"
    urls = url_set(owned)
    lab.lvslab("crash", victim)
    crashed = time.monotonic()
    wait_for(f"{victim} to leave the pool", lambda: victim not in pool(lab), 20, 0.2)
    left = time.monotonic() - crashed
    results = fetch(lab, urls)
    bad = [r for r in results if not r["ok"]]
    assert not bad, f"{len(bad)} of {len(results)} failed after {victim} left: {bad[:5]}"
    print(f"{victim} crashed: out of the pool after {left:.1f} s (window {WINDOW_S} s)")
    assert left <= WINDOW_S + 2
    others = [c for c in CACHES if c != victim]
    moved = {e["url"].split("/")[2] for c in others for e in squid_log(lab, c)}
    assert set(owned) <= moved

    lab.lvslab("start", victim)
    started = time.monotonic()
    wait_for(f"{victim} back in the pool", lambda: victim in pool(lab), 90, 0.5)
    print(f"{victim} back in the pool {time.monotonic() - started:.1f} s after it answered ssh")
    assert all(r["ok"] for r in fetch(lab, url_set(ORIGINS[:4])))
