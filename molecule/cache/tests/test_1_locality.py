"""The clients browse 24 origin addresses through the cluster: every answer is the
origin's object, each origin address is served by one cache (lblc), and over three
passes the origin sees at most 1.2 fetches per object."""

from collections import defaultdict

from conftest import CACHES, CLIENTS, ORIGINS, fetch, origin_fetches, squid_log, url_set


def test_three_passes_are_answered_from_one_cache_per_origin(lab):
    urls = url_set()
    before = origin_fetches(lab)
    passes = [fetch(lab, urls) for _ in range(3)]
    for n, results in enumerate(passes, start=1):
        bad = [r for r in results if not r["ok"]]
        assert not bad, f"pass {n}: {len(bad)} of {len(results)} failed: {bad[:5]}"
    assert {r["client"] for r in passes[0]} == set(CLIENTS)
    assert max(r["bytes"] for r in passes[0]) == 200_000  # many segments

    fetched = origin_fetches(lab) - before
    wanted = {f"http://{h}{p}" for h, p, _ in urls}
    per_object = sum(fetched[u] for u in wanted) / len(wanted)
    assert per_object <= 1.2, fetched

    by_origin = defaultdict(set)
    served = [e for c in CACHES for e in squid_log(lab, c) if e["client"] in CLIENTS]
    for entry in served:
        by_origin[entry["url"].split("/")[2]].add(entry["cache"])
    spread = {host: sorted(caches) for host, caches in by_origin.items()}
    assert set(spread) == set(ORIGINS)
    assert all(len(caches) == 1 for caches in spread.values()), spread
    hits = sum(1 for e in served if "HIT" in e["code"])
    per_cache = {c: sum(1 for caches in spread.values() if caches == [c]) for c in CACHES}
    print(
        f"{len(urls)} objects x 3 passes from {len(CLIENTS)} clients: origin fetches per "
        f"object {per_object:.2f}, hit ratio {hits / len(served):.2f}, origin addresses "
        f"per cache {per_cache}"
    )
    # every cache has its share of the destinations, the remote one included
    assert all(per_cache.values()), per_cache
