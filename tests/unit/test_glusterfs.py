"""GlusterFS module_utils: parsers on replies captured from glusterfs 10.3, plans as tables.

Fixtures: tests/unit/fixtures/glusterfs (see its README.md for where each reply came from).
"""

import re
from dataclasses import replace
from pathlib import Path

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils.glusterfs import (
    CREATE_DEFAULTS,
    GlusterError,
    InvalidSpec,
    Peer,
    apply_volume,
    call,
    expect_ok,
    local_names,
    normalise_options,
    normalise_value,
    parse_ip_addr,
    parse_pool,
    parse_reply,
    parse_volume_info,
    plan_peers,
    plan_volume,
    read_pool,
    read_volume,
    render_pool,
    render_volume,
    volume_spec,
    wait_for_peers,
)

FIXTURES = Path(__file__).parent / "fixtures" / "glusterfs"
GL1, GL2, GL3, DIR1 = "198.51.100.41", "198.51.100.42", "198.51.100.43", "198.51.100.11"
SINGLE = "192.0.2.11"
CAP_BRICKS = [f"{SINGLE}:/srv/cap/{b}" for b in "abc"]
WWW_BRICKS = [f"{h}:/srv/gluster/www/brick" for h in (GL1, GL2, GL3)]


def fixture(name):
    return (FIXTURES / name).read_text()


def volume(name):
    return parse_volume_info(fixture(name))


def pool(name):
    return parse_pool(fixture(name))


class FakeGluster:
    """A run_command stand-in: answers argv (after `gluster --mode=script --xml`) from a
    table of fixture names or (rc, stdout, stderr), and records what was asked."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def __call__(self, argv):
        assert argv[:3] == ["gluster", "--mode=script", "--xml"], argv
        key = " ".join(argv[3:])
        self.calls.append(key)
        answer = self.answers[key]
        if isinstance(answer, list):  # successive answers
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, str):
            return 0, fixture(answer), ""
        return answer


# ---------------------------------------------------------------- replies


def test_reply_fields():
    reply = parse_reply(fixture("volume-set-unknown.xml"))
    assert (reply.ret, reply.errno, reply.ok) == (-1, 30800, False)
    assert reply.errstr.startswith("option : no.such-option does not exist\nDid you mean")


def test_refused_detach_has_opret_1_and_is_an_error():
    reply = parse_reply(fixture("peer-detach-with-bricks.xml"))
    assert reply.ret == 1 and not reply.ok
    with pytest.raises(GlusterError, match=r"^peer detach failed: Peer 198.51.100.43 hosts one"):
        expect_ok(reply, "peer detach")


def test_success_with_a_warning_keeps_the_warning():
    reply = parse_reply(fixture("volume-create-reuse.xml"))
    assert reply.ok and reply.errstr == "/srv/cap/c is already part of a volume"


def test_glusterd_down_is_a_sentence_with_a_hint():
    run = FakeGluster({"pool list": (1, fixture("glusterd-down.txt"), "")})
    with pytest.raises(GlusterError) as err:
        read_pool(run)
    assert str(err.value) == (
        "`gluster --mode=script --xml pool list` exited 1: Connection failed. Please check if "
        "gluster daemon is operational. Is glusterd running?"
    )


def test_not_xml_at_all():
    with pytest.raises(GlusterError, match="gluster printed no XML reply"):
        parse_reply("volume create: t1: failed: something\n")


def test_an_empty_answer_is_asked_again_for_reads_only():
    run = FakeGluster({"pool list": [(0, "", ""), (0, "", ""), "pool-single.xml"]})
    naps = []
    peers = [p.to_dict() for p in pool("pool-single.xml")]
    assert [p.to_dict() for p in read_pool_with(run, naps)] == peers
    assert run.calls == ["pool list"] * 3 and naps == [0.5, 0.5]
    run = FakeGluster({"volume set v k 1": (0, "", "")})
    with pytest.raises(GlusterError, match="exited 0: no output"):
        call(run, "volume", "set", "v", "k", "1")
    assert run.calls == ["volume set v k 1"]


def read_pool_with(run, naps):
    from ansible_collections.lvs.cluster.plugins.module_utils.glusterfs import pool_from

    return pool_from(call(run, "pool", "list", retries=3, sleep=naps.append))


# ---------------------------------------------------------------- pool


def test_pool_of_a_single_node_is_itself():
    (me,) = pool("pool-single.xml")
    assert me.to_dict() == {
        "hostname": "localhost",
        "uuid": "d601e723-4a06-44f2-913b-59d678cab2fe",
        "state": None,
        "connected": True,
        "local": True,
    }
    assert me.ready


def test_pool_of_three_from_gl1():
    peers = pool("pool-three.xml")
    assert [(p.hostname, p.state, p.connected, p.local) for p in peers] == [
        (GL2, "Peer in Cluster", True, False),
        (GL3, "Peer in Cluster", True, False),
        ("localhost", None, True, True),
    ]
    assert peers[0].uuid == "be118d12-0c56-4e33-96a0-4546922942fe"
    assert peers[0].hostnames == ()  # the list repeats the hostname only


def test_peer_status_lists_the_others_only():
    peers = pool("peer-status-three.xml")
    assert {p.hostname for p in peers} == {GL2, GL3} and not any(p.local for p in peers)


def test_probing_and_disconnected_peers_are_not_ready():
    probing = {p.hostname: p for p in pool("pool-probing.xml")}[DIR1]
    assert (probing.state, probing.connected, probing.ready) == (
        "Accepted peer request",
        True,
        False,
    )
    down = {p.hostname: p for p in pool("pool-disconnected.xml")}[DIR1]
    assert (down.state, down.connected, down.ready) == ("Peer in Cluster", False, False)


def test_own_addresses_from_ip_o_addr():
    addresses = parse_ip_addr(fixture("ip-o-addr.txt"))
    assert {"127.0.0.1", "::1", SINGLE, DIR1} <= addresses
    assert not [a for a in addresses if "/" in a]


def test_local_names():
    addresses = {SINGLE, DIR1}
    resolve = {"dir1.example": {DIR1}, "gl2.example": {GL2}, "loop": {"127.0.1.1"}}.get
    names = [SINGLE, "DIR1", "localhost", "127.0.0.1", "dir1.example", "gl2.example", GL2, "loop"]
    assert local_names(names, addresses, {"dir1"}, resolve) == {
        SINGLE,
        "DIR1",
        "localhost",
        "127.0.0.1",
        "dir1.example",
        "loop",
    }


PEER_CASES = [
    # (id, pool fixture, wanted, local, state, aliases, probe, detach, wait_for)
    ("single node, itself only: no-op", "pool-single.xml", [SINGLE], {SINGLE}, "present",
     {}, [], [], []),
    ("three nodes, from gl1: no-op", "pool-three.xml", [GL1, GL2, GL3], {GL1}, "present",
     {}, [], [], [GL2, GL3]),
    ("a new peer", "pool-three.xml", [GL1, GL2, GL3, DIR1], {GL1}, "present",
     {}, [DIR1], [], [GL2, GL3, DIR1]),
    ("listed twice, probed once", "pool-single.xml", [GL2, GL2.upper(), GL2], {SINGLE},
     "present", {}, [GL2], [], [GL2]),
    ("listed by name, known by address", "pool-three.xml", ["gl3"], set(), "present",
     {"gl3": {GL3}}, [], [], ["gl3"]),
    ("detach one", "pool-three.xml", [GL3], {GL1}, "absent", {}, [], [GL3], []),
    ("detach one not in the pool: no-op", "pool-three.xml", [DIR1], {GL1}, "absent",
     {}, [], [], []),
    ("detach never this node", "pool-three.xml", [GL1], {GL1}, "absent", {}, [], [], []),
]  # fmt: skip


@pytest.mark.parametrize(
    "pool_file,wanted,local,state,aliases,probe,detach,wait_for",
    [c[1:] for c in PEER_CASES],
    ids=[c[0] for c in PEER_CASES],
)
def test_peer_plan(pool_file, wanted, local, state, aliases, probe, detach, wait_for):
    plan = plan_peers(wanted, pool(pool_file), local, state, aliases)
    assert (plan.probe, plan.detach, plan.wait_for) == (probe, detach, wait_for)
    assert plan.changed == bool(probe or detach)
    assert plan.steps() == [("probe", n) for n in probe] + [("detach", n) for n in detach]


def test_peer_plan_after_and_diff():
    plan = plan_peers([GL1, GL2, GL3, DIR1], pool("pool-three.xml"), {GL1})
    assert render_pool(plan.after) == (
        "localhost b08c68bc-74cb-4074-b321-662b649cd75d (this node)\n"
        "198.51.100.11 (uuid on probe) Peer in Cluster, connected\n"
        "198.51.100.42 be118d12-0c56-4e33-96a0-4546922942fe Peer in Cluster, connected\n"
        "198.51.100.43 23bdee38-dd63-4d7a-ac2b-06c5c8a2f5e6 Peer in Cluster, connected\n"
    )


def test_empty_peer_name():
    with pytest.raises(InvalidSpec, match="empty peer name"):
        plan_peers([" "], [], set())


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_wait_until_the_probed_peer_is_in_the_cluster():
    reads = [pool("pool-probing.xml"), pool("pool-probing.xml"), pool("pool-disconnected.xml")]
    ready = [replace(p, connected=True) for p in pool("pool-disconnected.xml")]
    answers = iter([*reads, ready])
    clock = Clock()
    result = wait_for_peers(
        lambda: next(answers), [GL2, GL3, DIR1], 60, sleep=clock.sleep, clock=clock
    )
    assert result == ready
    assert clock.now == 0.25 + 0.5 + 1.0  # backs off from a quarter second


def test_wait_gives_up_naming_the_stragglers():
    clock = Clock()
    with pytest.raises(GlusterError) as err:
        wait_for_peers(
            lambda: pool("pool-probing.xml"), [GL2, DIR1, "192.0.2.99"], 5,
            sleep=clock.sleep, clock=clock,
        )  # fmt: skip
    assert str(err.value) == (
        "after 5 s these peers are not in the cluster and connected: "
        "198.51.100.11 (Accepted peer request, connected); 192.0.2.99 (not in the pool)"
    )
    assert clock.now == 5


def test_wait_with_everyone_ready_reads_once():
    calls = []
    wait_for_peers(lambda: calls.append(1) or pool("pool-three.xml"), [GL2, GL3], 60)
    assert calls == [1]


# ---------------------------------------------------------------- volumes


def test_missing_volume_is_none():
    assert volume("volume-info-missing.xml") is None


def test_other_volume_info_errors_raise():
    text = fixture("volume-stop-again.xml")
    with pytest.raises(GlusterError, match="is not in the started state"):
        parse_volume_info(text)


def test_volume_www_of_the_static_lab():
    www = volume("volume-info-www.xml")
    assert www.to_dict() == {
        "name": "www",
        "status": "Started",
        "type": "Replicate",
        "replica": 3,
        "arbiter": 0,
        "bricks": WWW_BRICKS,
        "options": {
            "network.ping-timeout": "5",
            "cluster.granular-entry-heal": "on",
            "storage.fips-mode-rchecksum": "on",
            "transport.address-family": "inet",
            "nfs.disable": "on",
            "performance.client-io-threads": "off",
        },
    }
    assert www.transport == "tcp"


@pytest.mark.parametrize(
    "name,status,kind,replica,arbiter,bricks",
    [
        ("volume-info-created.xml", "Created", "Replicate", 3, 0, CAP_BRICKS),
        ("volume-info-started.xml", "Started", "Replicate", 3, 0, CAP_BRICKS),
        ("volume-info-stopped.xml", "Stopped", "Replicate", 3, 0, CAP_BRICKS),
        ("volume-info-arbiter.xml", "Created", "Replicate", 3, 1, CAP_BRICKS),
        (
            "volume-info-distribute.xml",
            "Created",
            "Distribute",
            1,
            0,
            [f"{SINGLE}:/srv/cap/d", f"{SINGLE}:/srv/cap/e"],
        ),
    ],
)
def test_volume_info(name, status, kind, replica, arbiter, bricks):
    v = volume(name)
    assert (v.status, v.type, v.replica, v.arbiter, list(v.bricks)) == (
        status,
        kind,
        replica,
        arbiter,
        bricks,
    )


def test_started_volume_has_the_options_set_on_it():
    options = volume("volume-info-started.xml").options
    assert options["network.ping-timeout"] == "5"
    assert options["performance.readdir-ahead"] == "true"  # stored as given
    assert set(CREATE_DEFAULTS) <= set(options)


@pytest.mark.parametrize(
    "value,text",
    [(True, "on"), (False, "off"), (5, "5"), (0, "0"), (0.5, "0.5"), ("5", "5"), ("on", "on"),
     ("64MB", "64MB"), ("true", "true")],
)  # fmt: skip
def test_normalise_value(value, text):
    assert normalise_value(value) == text


def test_normalise_options_errors():
    assert normalise_options({"network.ping-timeout": 5, "nfs.disable": True}) == {
        "network.ping-timeout": "5",
        "nfs.disable": "on",
    }
    with pytest.raises(InvalidSpec, match="option 'ping-timeout': use the full name"):
        normalise_options({"ping-timeout": 5})
    with pytest.raises(InvalidSpec, match=r"option auth\.allow: an option value is empty"):
        normalise_options({"auth.allow": None})
    with pytest.raises(InvalidSpec, match="strings, numbers or booleans"):
        normalise_options({"auth.allow": ["a"]})


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"name": "a b"}, "volume name 'a b' must be a word"),
        ({"state": "running"}, "state must be one of started, present, stopped, absent"),
        ({"bricks": ["/srv/a"]}, "brick '/srv/a' is not host:/absolute/path"),
        ({"bricks": ["h:srv/a"]}, "brick 'h:srv/a' is not host:/absolute/path"),
        ({"bricks": ["h:/a", "h:/a/"]}, "bricks listed twice: h:/a"),
        ({"bricks": []}, "bricks is empty"),
        ({"bricks": ["h:/a"], "replica": 0}, "replica must be 1 or more"),
        ({"bricks": ["h:/a", "h:/b"], "replica": 3}, "2 bricks do not divide into replica sets"),
        ({"bricks": ["h:/a", "h:/b"], "replica": 2, "arbiter": 1}, "arbiter 1 needs replica 3"),
        ({"arbiter": 2}, "arbiter must be 0 or 1"),
    ],
)
def test_spec_errors(kwargs, message):
    with pytest.raises(InvalidSpec, match=message):
        volume_spec(**{"name": "v", **kwargs})


def spec(**kw):
    return volume_spec(**{"name": "cap-r3", **kw})


R3 = {"bricks": CAP_BRICKS, "replica": 3, "force": True}
CREATE = "volume create cap-r3 replica 3 transport tcp " + " ".join(CAP_BRICKS) + " force"

VOLUME_CASES = [
    # (id, declaration, current volume-info fixture or None, expected gluster commands)
    ("create, start, then set", {**R3, "options": {"network.ping-timeout": 5}}, None,
     [CREATE, "volume start cap-r3", "volume set cap-r3 network.ping-timeout 5"]),
    ("create only, state present", {**R3, "state": "present"}, None, [CREATE]),
    ("create only, state stopped", {**R3, "state": "stopped"}, None, [CREATE]),
    ("create with arbiter, no force", {"bricks": CAP_BRICKS, "replica": 3, "arbiter": 1},
     None, ["volume create cap-r3 replica 3 arbiter 1 transport tcp " + " ".join(CAP_BRICKS),
            "volume start cap-r3"]),
    ("create distributed", {"bricks": CAP_BRICKS[:2]}, None,
     ["volume create cap-r3 transport tcp " + " ".join(CAP_BRICKS[:2]), "volume start cap-r3"]),
    ("no-op, started", {**R3, "options": {"network.ping-timeout": 5,
                                          "performance.readdir-ahead": "true"}},
     "volume-info-started.xml", []),
    ("no-op, layout not declared", {"options": {"network.ping-timeout": "5"}},
     "volume-info-started.xml", []),
    ("no-op, bricks with trailing slashes", {**R3, "bricks": [b + "/" for b in CAP_BRICKS]},
     "volume-info-started.xml", []),
    ("no-op, undeclared options stay", {**R3}, "volume-info-started.xml", []),
    ("no-op, absent and missing", {"state": "absent"}, None, []),
    ("no-op, stopped", {"state": "stopped"}, "volume-info-stopped.xml", []),
    ("no-op, present leaves a stopped volume stopped", {"state": "present"},
     "volume-info-stopped.xml", []),
    ("change an option", {"options": {"network.ping-timeout": 10}}, "volume-info-started.xml",
     ["volume set cap-r3 network.ping-timeout 10"]),
    ("a boolean becomes on", {"options": {"performance.readdir-ahead": True}},
     "volume-info-started.xml", ["volume set cap-r3 performance.readdir-ahead on"]),
    ("purge resets the undeclared, not glusterd's own", {"purge_options": True,
                                                         "options": {"network.ping-timeout": 5}},
     "volume-info-started.xml", ["volume reset cap-r3 performance.readdir-ahead"]),
    ("start a created volume", {}, "volume-info-created.xml", ["volume start cap-r3"]),
    ("start a stopped volume", {}, "volume-info-stopped.xml", ["volume start cap-r3"]),
    ("stop", {"state": "stopped"}, "volume-info-started.xml", ["volume stop cap-r3"]),
    ("stop then set", {"state": "stopped", "options": {"nfs.disable": False}},
     "volume-info-started.xml", ["volume stop cap-r3", "volume set cap-r3 nfs.disable off"]),
    ("absent stops and deletes", {"state": "absent"}, "volume-info-started.xml",
     ["volume stop cap-r3", "volume delete cap-r3"]),
    ("absent deletes a stopped one", {"state": "absent"}, "volume-info-stopped.xml",
     ["volume delete cap-r3"]),
]  # fmt: skip


@pytest.mark.parametrize(
    "declared,current,commands",
    [c[1:] for c in VOLUME_CASES],
    ids=[c[0] for c in VOLUME_CASES],
)
def test_volume_plan(declared, current, commands):
    plan = plan_volume(spec(**declared), volume(current) if current else None)
    assert [" ".join(step.args) for step in plan.steps] == commands
    assert plan.changed == bool(commands)
    assert all(str(step).startswith("gluster --mode=script --xml volume ") for step in plan.steps)


def test_predicted_volume_is_what_glusterd_made():
    """Check mode's after: the prediction for create+start+set equals the volume info
    captured after the same commands (volume-info-started.xml)."""
    options = {"network.ping-timeout": 5, "performance.readdir-ahead": "true"}
    plan = plan_volume(spec(**R3, options=options), None)
    assert plan.after == volume("volume-info-started.xml")
    assert render_volume(plan.after) == render_volume(volume("volume-info-started.xml"))
    arbiter = plan_volume(spec(**R3, arbiter=1, state="present"), None).after
    assert arbiter == replace(volume("volume-info-arbiter.xml"), name="cap-r3")
    dist = plan_volume(
        spec(bricks=[f"{SINGLE}:/srv/cap/d", f"{SINGLE}:/srv/cap/e"], state="present"), None
    ).after
    assert dist == replace(volume("volume-info-distribute.xml"), name="cap-r3")


def test_absent_after_is_none_and_renders_empty():
    plan = plan_volume(spec(state="absent"), volume("volume-info-started.xml"))
    assert plan.after is None and render_volume(plan.after) == ""


def test_render_volume():
    assert render_volume(volume("volume-info-www.xml")) == (
        "volume: www\n"
        "type: Replicate\n"
        "status: Started\n"
        "transport: tcp\n"
        "replica: 3\n"
        "arbiter: 0\n"
        "bricks:\n"
        "  - 198.51.100.41:/srv/gluster/www/brick\n"
        "  - 198.51.100.42:/srv/gluster/www/brick\n"
        "  - 198.51.100.43:/srv/gluster/www/brick\n"
        "options:\n"
        "  cluster.granular-entry-heal: on\n"
        "  network.ping-timeout: 5\n"
        "  nfs.disable: on\n"
        "  performance.client-io-threads: off\n"
        "  storage.fips-mode-rchecksum: on\n"
        "  transport.address-family: inet\n"
    )


@pytest.mark.parametrize(
    "declared,message",
    [
        (
            {"bricks": [*CAP_BRICKS[:2], f"{SINGLE}:/srv/cap/x"], "replica": 3},
            "volume cap-r3 exists with replica 3, transport tcp, bricks 192.0.2.11:/srv/cap/a, "
            "192.0.2.11:/srv/cap/b, 192.0.2.11:/srv/cap/c; declared: replica 3, transport tcp, "
            "bricks 192.0.2.11:/srv/cap/a, 192.0.2.11:/srv/cap/b, 192.0.2.11:/srv/cap/x. This "
            "module does not add, remove or replace bricks",
        ),
        (
            {"bricks": CAP_BRICKS, "replica": 3, "arbiter": 1},
            "declared: replica 3 arbiter 1, transport tcp",
        ),
        ({"bricks": CAP_BRICKS}, "declared: no replica \\(distribute\\), transport tcp"),
        ({"bricks": list(reversed(CAP_BRICKS)), "replica": 3}, "bricks 192.0.2.11:/srv/cap/c, "),
    ],
)
def test_layout_mismatch_is_an_error_naming_both(declared, message):
    with pytest.raises(InvalidSpec, match=message):
        plan_volume(spec(**declared), volume("volume-info-started.xml"))


def test_missing_volume_without_bricks():
    with pytest.raises(InvalidSpec, match="volume cap-r3 does not exist and no bricks"):
        plan_volume(spec(options={"nfs.disable": True}), None)


# ---------------------------------------------------------------- running a plan


def test_apply_runs_in_order_and_reports_warnings():
    plan = plan_volume(spec(**R3, options={"network.ping-timeout": 5}), None)
    run = FakeGluster(
        {
            CREATE: "volume-create-reuse.xml",
            "volume start cap-r3": "volume-start.xml",
            "volume set cap-r3 network.ping-timeout 5": "volume-set.xml",
            "volume info cap-r3": "volume-info-started.xml",
        }
    )
    assert apply_volume(run, plan) == ["create: /srv/cap/c is already part of a volume"]
    assert run.calls == [" ".join(s.args) for s in plan.steps]
    assert read_volume(run, "cap-r3").started


def test_apply_failure_names_the_step_and_what_was_done():
    plan = plan_volume(spec(**R3, options={"network.ping-timeout": "abc"}), None)
    run = FakeGluster(
        {
            CREATE: "volume-create.xml",
            "volume start cap-r3": "volume-start.xml",
            "volume set cap-r3 network.ping-timeout abc": "volume-set-bad-value.xml",
        }
    )
    with pytest.raises(GlusterError) as err:
        apply_volume(run, plan)
    assert str(err.value) == (
        'set volume cap-r3: invalid time format "abc" in "option ping-timeout" (done before: '
        f"{CREATE}; volume start cap-r3)"
    )


@pytest.mark.parametrize(
    "reply,message",
    [
        (
            "volume-create-no-parent.xml",
            "create volume cap-r3: Failed to create brick directory for brick "
            "192.0.2.11:/srv/cap/a. Reason : No such file or directory (glusterd makes only the "
            "brick directory itself: its parent must exist) (done before: nothing)",
        ),
        ("volume-create-root-fs.xml", "is being created in the root partition"),
        ("volume-create-same-host.xml", "Use 'force' at the end of the command"),
    ],
)
def test_create_refusals(reply, message):
    plan = plan_volume(spec(**R3), None)
    with pytest.raises(GlusterError, match=re.escape(message)):
        apply_volume(FakeGluster({CREATE: reply}), plan)


def test_peer_replies():
    assert parse_reply(fixture("peer-probe.xml")).ok
    assert parse_reply(fixture("peer-probe-self.xml")).ok
    with pytest.raises(GlusterError, match="Probe returned with Transport endpoint"):
        expect_ok(parse_reply(fixture("peer-probe-unreachable.xml")), "peer probe")
    with pytest.raises(GlusterError, match=r"192\.0\.2\.99 is not part of cluster"):
        expect_ok(parse_reply(fixture("peer-detach-unknown.xml")), "peer detach")


def test_peer_to_dict_keys():
    assert set(Peer("u", "h").to_dict()) == {"hostname", "uuid", "state", "connected", "local"}
