"""ICP is real: a cache asked for an object it lacks, which a sibling holds, gets it from
the sibling (squid logs SIBLING_HIT) and the origin sees no new fetch."""

from conftest import CACHES, OBJECTS, origin_fetches, squid_log


def test_a_miss_is_answered_by_the_sibling_that_holds_it(lab):
    # an object a cache fetched for the clients in test_1
    held = next(e for c in CACHES for e in squid_log(lab, c) if e["url"].endswith(OBJECTS[1][0]))
    other = next(c for c in CACHES if c != held["cache"])
    url = f"{held['url']}?size={OBJECTS[1][1]}"
    before = origin_fetches(lab)
    address = {"cache1": "192.0.2.41", "cache2": "192.0.2.42", "cache3": "198.51.100.141"}
    # through the other cache's plain proxy port, from a director (allowed there)
    got = lab.ssh(
        f"curl -s -o /dev/null -w '%{{http_code}} %{{size_download}}' "
        f"-x http://{address[other]}:3128 '{url}'",
        guest="dir1",
    ).stdout
    assert got == f"200 {OBJECTS[1][1]}", got
    mine = [e for e in squid_log(lab, other) if e["url"] == held["url"]]
    assert mine and mine[-1]["hierarchy"].startswith("SIBLING_HIT/"), mine
    assert origin_fetches(lab) == before
    print(f"{other} got {held['url']} from its sibling {held['cache']}: {mine[-1]['hierarchy']}")
