"""Clients play streams through the VIP; each client's control connection, its UDP flows
and its persistence template point to one server, which receives its RTCP reports."""

import time

from conftest import (
    CLIP_FPS,
    SERVERS,
    VIP,
    client_address,
    connections,
    frames,
    play,
    put_on_share,
    records,
    serves,
    wait_for,
)

CLIENTS = [1, 2, 3, 4]
SECONDS = 10


def test_four_clients_play_their_streams_whole(lab, clip):
    players = {n: play(lab, clip, SECONDS, n) for n in CLIENTS}
    time.sleep(6)  # every session set up and reporting
    during = connections(lab)
    outputs = {n: p.communicate(timeout=60)[0] for n, p in players.items()}
    wanted = CLIP_FPS * SECONDS
    for n, out in outputs.items():
        assert players[n].returncode == 0, out[-2000:]
        decoded = frames(out)
        print(f"client {n}: {decoded} frames decoded of {wanted}")
        assert abs(decoded - wanted) <= 0.05 * wanted, out[-2000:]

    served = {}
    for n in CLIENTS:
        address = client_address(n)
        mine = [c for c in during if c["client"] == address]
        # the persistence template (client port 0), the TCP control connection, UDP flows
        assert any(c["client_port"] == 0 for c in mine), mine
        assert any(c["protocol"] == "TCP" and c["client_port"] for c in mine), mine
        assert any(c["protocol"] == "UDP" and c["client_port"] for c in mine), mine
        servers = {c["server"] for c in mine}
        assert len(servers) == 1, mine
        served[address] = servers.pop()
    print(f"servers of the clients: {served}")
    assert set(served.values()) == set(SERVERS)  # lc spread the sessions

    for address, server in served.items():
        mine = [r for r in records(lab, address) if r["file"] == clip.rsplit("/", 1)[1]]
        assert mine, address
        last = mine[-1]
        assert last["server"] == server, last
        assert last["rtcp_reports"] >= 2, last
        assert any(origin.startswith(address + ":") for origin in last["rtcp_from"]), last


def test_without_the_udp_mark_the_server_hears_no_rtcp(lab, clip):
    # negative control: the director marks TCP 554 only; the client's RTCP to the VIP
    # ends on the director, so the server that owns the session never sees it
    saved = lab.ssh("iptables-legacy-save -t mangle", guest="dir1").stdout
    rule = next(line for line in saved.splitlines() if "-p udp" in line and "6970:6999" in line)
    lab.ssh(f"iptables-legacy -t mangle {rule.replace('-A ', '-D ', 1)}", guest="dir1")
    try:
        player = play(lab, clip, 8, 5)
        out = player.communicate(timeout=60)[0]
        assert player.returncode == 0, out[-2000:]
        assert frames(out) > 0.9 * CLIP_FPS * 8  # the stream itself does not need it
        last = records(lab, client_address(5))[-1]
        print(f"without the UDP mark: {last['rtcp_reports']} RTCP reports on {last['server']}")
        assert last["rtcp_reports"] == 0, last
    finally:
        lab.ssh("iptables-legacy-restore -T mangle", guest="dir1", input=saved)
    assert lab.ssh("iptables-legacy-save -t mangle", guest="dir1").stdout.count("-A ") == (
        saved.count("-A ")
    )


def test_a_file_put_once_on_the_share_plays_from_every_server(lab, clip):
    put_on_share(lab, "added.mp4", seconds=6)
    for server in SERVERS:
        wait_for(
            f"{server} to serve added.mp4", lambda s=server: serves(lab, s, "added.mp4"), 20, 0.5
        )
    url = f"rtsp://{VIP}/added.mp4"
    seen = set()
    # through the VIP: new clients until both servers have played it (lc alternates)
    for n in range(6, 12):
        player = play(lab, url, 3, n)
        out = player.communicate(timeout=60)[0]
        assert player.returncode == 0 and frames(out) > 0.9 * CLIP_FPS * 3, out[-2000:]
        seen.add(records(lab, client_address(n))[-1]["server"])
        if seen == set(SERVERS):
            break
    assert seen == set(SERVERS)
