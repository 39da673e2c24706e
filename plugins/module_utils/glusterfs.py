# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""GlusterFS trusted pool and volumes: read the CLI's XML, plan the changes, render diffs.

Stdlib only, no Ansible imports. Nothing here runs a command by itself: the functions
that talk to glusterd take ``run``, a callable like AnsibleModule.run_command
(argv list -> (rc, stdout, stderr)). Every call goes through ``gluster --mode=script
--xml`` so nothing prompts and every reply carries opRet/opErrstr.
"""

from __future__ import annotations

import ipaddress
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace

GLUSTER = ("gluster", "--mode=script", "--xml")

# times a read-only command is asked again after an empty answer
READ_RETRIES = 3

# peer state glusterd reports once a probe has completed on both sides
IN_CLUSTER = "Peer in Cluster"

# opErrstr of `volume info NAME` for a missing volume (opErrno 30806 in glusterfs 10)
NO_SUCH_VOLUME = "does not exist"

VOLUME_STATES = ("started", "present", "stopped", "absent")
TRANSPORTS = {"0": "tcp", "1": "rdma", "2": "tcp,rdma"}

# Options glusterd 10 writes into every new volume by itself. They are not the user's,
# so purge_options leaves them alone, and check mode predicts them for a new volume.
CREATE_DEFAULTS = {
    "storage.fips-mode-rchecksum": "on",
    "transport.address-family": "inet",
    "nfs.disable": "on",
}
CREATE_DEFAULTS_REPLICATED = {
    "cluster.granular-entry-heal": "on",
    "performance.client-io-threads": "off",
}


class GlusterError(Exception):
    """A gluster call that failed, or an answer that makes no sense; str() is a sentence."""


class InvalidSpec(GlusterError):
    """The declaration itself is wrong or contradicts the existing volume."""


# ---------------------------------------------------------------- the CLI and its XML


@dataclass(frozen=True)
class Reply:
    ret: int
    errno: int
    errstr: str
    root: ET.Element = field(repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.ret == 0


def parse_reply(text: str) -> Reply:
    """The <cliOutput> of `gluster --xml`; GlusterError if there is none."""
    start = text.find("<?xml")
    if start < 0:
        start = text.find("<cliOutput")
    try:
        if start < 0:
            raise ET.ParseError("no XML")
        root = ET.fromstring(text[start:].strip())
    except ET.ParseError as exc:
        first = text.strip().splitlines()[0] if text.strip() else "nothing"
        raise GlusterError(f"gluster printed no XML reply ({exc}): {first}") from None
    if root.tag != "cliOutput":
        raise GlusterError(f"gluster replied with <{root.tag}>, not <cliOutput>")
    return Reply(
        ret=_int(root.findtext("opRet"), -1),
        errno=_int(root.findtext("opErrno"), 0),
        errstr=(root.findtext("opErrstr") or "").strip(),
        root=root,
    )


def command(*args: str) -> list[str]:
    return [*GLUSTER, *args]


def call(run, *args: str, retries: int = 0, sleep=time.sleep) -> Reply:
    """Run one gluster command; the reply whatever its opRet, GlusterError if none came.

    The 10.x CLI now and then exits 0 having printed nothing; read-only commands pass
    ``retries`` to ask again (a mutating one must not: it may have been done)."""
    argv = command(*args)
    attempt = 0
    while True:
        rc, out, err = run(argv)
        if "<cliOutput" in (out or ""):
            return parse_reply(out)
        if rc == 0 and not (out or "").strip() and attempt < retries:
            attempt += 1
            sleep(0.5)
            continue
        said = " ".join((err or out or "").split()) or "no output"
        hint = " Is glusterd running?" if "Connection failed" in said else ""
        raise GlusterError(f"`{' '.join(argv)}` exited {rc}: {said}{hint}")


def expect_ok(reply: Reply, what: str) -> Reply:
    if not reply.ok:
        raise GlusterError(f"{what} failed: {reply.errstr or f'opErrno {reply.errno}'}")
    return reply


def _int(text, default: int) -> int:
    try:
        return int((text or "").strip())
    except ValueError:
        return default


# ---------------------------------------------------------------- the trusted pool


@dataclass(frozen=True)
class Peer:
    uuid: str
    hostname: str
    hostnames: tuple[str, ...] = ()
    connected: bool = False
    state: str | None = None  # stateStr; None for this node
    local: bool = False

    def names(self) -> set[str]:
        return {n.lower() for n in (self.hostname, *self.hostnames) if n}

    @property
    def ready(self) -> bool:
        return self.local or (self.state == IN_CLUSTER and self.connected)

    def to_dict(self) -> dict:
        return {
            "hostname": self.hostname,
            "uuid": self.uuid,
            "state": self.state,
            "connected": self.connected,
            "local": self.local,
        }


def parse_pool(text: str) -> list[Peer]:
    """Peers of `pool list --xml` (this node included, as "localhost") or `peer status --xml`."""
    return pool_from(parse_reply(text))


def pool_from(reply: Reply) -> list[Peer]:
    expect_ok(reply, "reading the trusted pool")
    peers = []
    for node in reply.root.iterfind("./peerStatus/peer"):
        hostname = (node.findtext("hostname") or "").strip()
        others = tuple(
            h.text.strip()
            for h in node.iterfind("./hostnames/hostname")
            if h.text and h.text.strip()
        )
        local = hostname == "localhost" and node.find("state") is None
        peers.append(
            Peer(
                uuid=(node.findtext("uuid") or "").strip(),
                hostname=hostname,
                hostnames=tuple(h for h in others if h != hostname),
                connected=node.findtext("connected", "0").strip() == "1",
                state=None if local else (node.findtext("stateStr") or "").strip() or None,
                local=local,
            )
        )
    return peers


def read_pool(run) -> list[Peer]:
    return pool_from(call(run, "pool", "list", retries=READ_RETRIES))


def parse_ip_addr(text: str) -> set[str]:
    """This node's addresses from `ip -o addr` (without prefix lengths)."""
    addresses = set()
    for line in text.splitlines():
        fields = line.split()
        for i, word in enumerate(fields[:-1]):
            if word in ("inet", "inet6"):
                addresses.add(fields[i + 1].split("/")[0].lower())
    return addresses


def local_names(names, addresses: set[str], hostnames=(), resolve=None) -> set[str]:
    """Which of names are this node: one of its addresses, "localhost", its host name,
    or a name that resolves (through ``resolve``: name -> addresses) to one of them."""
    own = {a.lower() for a in addresses} | {"localhost"} | {h.lower() for h in hostnames if h}
    found = set()
    for name in names:
        key = name.lower()
        if key in own or _is_loopback(key):
            found.add(name)
        elif resolve is not None and not _is_address(key):
            resolved = {a.lower() for a in resolve(name)}
            if resolved & own or any(_is_loopback(a) for a in resolved):
                found.add(name)
    return found


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_loopback(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def find_peer(pool: list[Peer], name: str, aliases=()) -> Peer | None:
    """The remote peer known by name, or else by one of its aliases (the addresses the
    name resolves to: a peer probed by address and listed by name)."""
    key = name.lower()
    found = next((p for p in pool if not p.local and key in p.names()), None)
    if found is None and aliases:
        keys = {a.lower() for a in aliases}
        found = next((p for p in pool if not p.local and keys & p.names()), None)
    return found


@dataclass
class PeerPlan:
    probe: list[str] = field(default_factory=list)
    detach: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    wait_for: list[str] = field(default_factory=list)  # listed peers expected in the pool
    after: list[Peer] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.probe or self.detach)

    def steps(self) -> list[tuple[str, str]]:
        """(verb, name) of the gluster peer commands, in order."""
        return [("probe", n) for n in self.probe] + [("detach", n) for n in self.detach]


def plan_peers(
    wanted, pool: list[Peer], local=(), state: str = "present", aliases=None
) -> PeerPlan:
    """What to probe (present) or detach (absent) so that the listed peers are (not) in
    the pool. Names in ``local`` (this node) are skipped; a name matches a peer by any of
    the peer's names, or by the addresses in ``aliases`` ({name: addresses})."""
    aliases = aliases or {}
    plan = PeerPlan(after=list(pool))
    seen = set()
    for name in wanted:
        if not name or not name.strip():
            raise InvalidSpec("an empty peer name was listed")
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        if name in local:
            plan.local.append(name)
            continue
        peer = find_peer(plan.after, name, aliases.get(name, ()))
        if state == "present":
            plan.wait_for.append(name)
            if peer is None:
                plan.probe.append(name)
                plan.after.append(Peer(uuid="", hostname=name, connected=True, state=IN_CLUSTER))
        elif state == "absent":
            if peer is not None:
                plan.detach.append(name)
                plan.after.remove(peer)
        else:
            raise InvalidSpec(f"state must be present or absent, got {state!r}")
    return plan


def not_ready(pool: list[Peer], names, aliases=None) -> dict[str, str]:
    """{name: why} for the listed names whose peer is not in the cluster and connected."""
    aliases = aliases or {}
    waiting = {}
    for name in names:
        peer = find_peer(pool, name, aliases.get(name, ()))
        if peer is None:
            waiting[name] = "not in the pool"
        elif not peer.ready:
            waiting[name] = f"{peer.state or 'no state'}, " + (
                "connected" if peer.connected else "disconnected"
            )
    return waiting


def wait_for_peers(
    read, names, timeout: float, aliases=None, sleep=time.sleep, clock=time.monotonic
):
    """Read the pool (``read()`` -> peers) until every listed name is in the cluster and
    connected; the last pool read, or GlusterError naming the stragglers after timeout."""
    deadline = clock() + timeout
    delay = 0.25
    while True:
        pool = read()
        waiting = not_ready(pool, names, aliases)
        if not waiting:
            return pool
        if clock() >= deadline:
            raise GlusterError(
                f"after {timeout:g} s these peers are not in the cluster and connected: "
                + "; ".join(f"{n} ({why})" for n, why in waiting.items())
            )
        sleep(min(delay, max(deadline - clock(), 0)))
        delay = min(delay * 2, 2.0)


def render_pool(pool: list[Peer]) -> str:
    lines = []
    for peer in sorted(pool, key=lambda p: (not p.local, p.hostname)):
        if peer.local:
            lines.append(f"{peer.hostname} {peer.uuid} (this node)")
        else:
            link = "connected" if peer.connected else "disconnected"
            names = f" (also {', '.join(peer.hostnames)})" if peer.hostnames else ""
            uuid = peer.uuid or "(uuid on probe)"
            lines.append(f"{peer.hostname}{names} {uuid} {peer.state}, {link}")
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------- volumes


@dataclass(frozen=True)
class Volume:
    name: str
    status: str  # Created, Started, Stopped
    type: str  # Replicate, Distribute, Distributed-Replicate, ...
    replica: int = 1
    arbiter: int = 0
    bricks: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)
    transport: str = "tcp"

    @property
    def started(self) -> bool:
        return self.status == "Started"

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "type": self.type,
            "replica": self.replica,
            "arbiter": self.arbiter,
            "bricks": list(self.bricks),
            "options": dict(self.options),
        }


def parse_volume_info(text: str) -> Volume | None:
    """The volume of `volume info NAME --xml`; None if it does not exist."""
    return volume_from(parse_reply(text))


def volume_from(reply: Reply) -> Volume | None:
    if not reply.ok:
        if NO_SUCH_VOLUME in reply.errstr.lower():
            return None
        expect_ok(reply, "gluster volume info")
    volumes = reply.root.findall("./volInfo/volumes/volume")
    if not volumes:
        return None
    if len(volumes) > 1:
        raise GlusterError(f"volume info returned {len(volumes)} volumes, asked for one")
    return _volume(volumes[0])


def _volume(node: ET.Element) -> Volume:
    bricks = []
    for brick in node.iterfind("./bricks/brick"):
        name = brick.findtext("name") or brick.text or ""
        bricks.append(name.strip())
    options = {}
    for option in node.iterfind("./options/option"):
        options[(option.findtext("name") or "").strip()] = option.findtext("value") or ""
    return Volume(
        name=(node.findtext("name") or "").strip(),
        status=(node.findtext("statusStr") or "").strip(),
        type=(node.findtext("typeStr") or "").strip(),
        replica=_int(node.findtext("replicaCount"), 1),
        arbiter=_int(node.findtext("arbiterCount"), 0),
        bricks=tuple(bricks),
        options=options,
        transport=TRANSPORTS.get((node.findtext("transport") or "0").strip(), "tcp"),
    )


def read_volume(run, name: str) -> Volume | None:
    return volume_from(call(run, "volume", "info", name, retries=READ_RETRIES))


def normalise_value(value) -> str:
    """A declared option value as glusterd stores it: booleans on/off, numbers as text."""
    if value is None:
        raise InvalidSpec("an option value is empty")
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise InvalidSpec(f"option values are strings, numbers or booleans, got {value!r}")


def normalise_options(options) -> dict[str, str]:
    result = {}
    for key, value in (options or {}).items():
        key = str(key).strip()
        if "." not in key:
            raise InvalidSpec(
                f"option {key!r}: use the full name (e.g. network.ping-timeout); glusterd "
                "stores short names under their full one, so they would never compare equal"
            )
        try:
            result[key] = normalise_value(value)
        except InvalidSpec as exc:
            raise InvalidSpec(f"option {key}: {exc}") from None
    return result


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    state: str = "started"
    bricks: tuple[str, ...] | None = None
    replica: int | None = None
    arbiter: int | None = None
    transport: str = "tcp"
    force: bool = False
    options: dict = field(default_factory=dict)
    purge_options: bool = False

    @property
    def layout(self) -> tuple[int, int, tuple[str, ...], str]:
        return (self.replica or 1, self.arbiter or 0, self.bricks or (), self.transport)


def volume_spec(
    name,
    state="started",
    bricks=None,
    replica=None,
    arbiter=None,
    transport="tcp",
    force=False,
    options=None,
    purge_options=False,
) -> VolumeSpec:
    """Check and normalise a declaration; InvalidSpec with the reason."""
    name = (name or "").strip()
    if not name or any(c.isspace() or c == "/" for c in name):
        raise InvalidSpec(f"volume name {name!r} must be a word without spaces or slashes")
    if state not in VOLUME_STATES:
        raise InvalidSpec(f"state must be one of {', '.join(VOLUME_STATES)}, got {state!r}")
    if bricks is not None:
        bricks = tuple(_brick(b) for b in bricks)
        if not bricks:
            raise InvalidSpec("bricks is empty: list host:/path entries, or leave it out")
        doubles = sorted({b for b in bricks if bricks.count(b) > 1})
        if doubles:
            raise InvalidSpec(f"bricks listed twice: {', '.join(doubles)}")
    if replica is not None and replica < 1:
        raise InvalidSpec(f"replica must be 1 or more, got {replica}")
    if arbiter not in (None, 0, 1):
        raise InvalidSpec(f"arbiter must be 0 or 1, got {arbiter}")
    if arbiter == 1 and replica != 3:
        raise InvalidSpec(
            f"arbiter 1 needs replica 3 (two data bricks and an arbiter), got replica {replica}"
        )
    if bricks and replica and len(bricks) % replica:
        raise InvalidSpec(
            f"{len(bricks)} bricks do not divide into replica sets of {replica}: "
            "list a multiple of replica"
        )
    return VolumeSpec(
        name=name,
        state=state,
        bricks=bricks,
        replica=replica,
        arbiter=arbiter,
        transport=transport or "tcp",
        force=bool(force),
        options=normalise_options(options),
        purge_options=bool(purge_options),
    )


def _brick(text) -> str:
    brick = str(text).strip()
    host, sep, path = brick.partition(":")
    if not sep or not host or not path.startswith("/"):
        raise InvalidSpec(f"brick {brick!r} is not host:/absolute/path")
    path = path.rstrip("/") or "/"
    return f"{host}:{path}"


def volume_type(replica: int, arbiter: int, bricks: int) -> str:
    """typeStr that glusterd 10 gives a new volume of this layout."""
    if replica > 1:
        return "Replicate" if bricks == replica else "Distributed-Replicate"
    return "Distribute"


def describe_layout(replica: int, arbiter: int, bricks, transport: str) -> str:
    kind = f"replica {replica}" + (f" arbiter {arbiter}" if arbiter else "")
    if replica <= 1:
        kind = "no replica (distribute)"
    return f"{kind}, transport {transport}, bricks {', '.join(bricks) or '(none)'}"


@dataclass
class Step:
    verb: str  # create, start, stop, delete, set, reset
    args: list[str]

    @property
    def argv(self) -> list[str]:
        return command(*self.args)

    def __str__(self) -> str:
        return " ".join(self.argv)


@dataclass
class VolumePlan:
    name: str
    steps: list[Step]
    before: Volume | None
    after: Volume | None

    @property
    def changed(self) -> bool:
        return bool(self.steps)


def create_args(spec: VolumeSpec) -> list[str]:
    args = ["volume", "create", spec.name]
    replica, arbiter, bricks, transport = spec.layout
    if replica > 1:
        args += ["replica", str(replica)]
    if arbiter:
        args += ["arbiter", str(arbiter)]
    args += ["transport", transport, *bricks]
    if spec.force:
        args.append("force")
    return args


def plan_volume(spec: VolumeSpec, current: Volume | None) -> VolumePlan:
    """Steps from the current volume (None: missing) to the declared one, and the volume
    they should leave behind. InvalidSpec if the existing layout differs from bricks."""
    steps = []
    name = spec.name
    if spec.state == "absent":
        if current is not None:
            if current.started:
                steps.append(Step("stop", ["volume", "stop", name]))
            steps.append(Step("delete", ["volume", "delete", name]))
        return VolumePlan(name, steps, current, None)

    volume = current
    if volume is None:
        if not spec.bricks:
            raise InvalidSpec(
                f"volume {name} does not exist and no bricks are declared to create it"
            )
        replica, arbiter, bricks, transport = spec.layout
        defaults = dict(CREATE_DEFAULTS)
        if replica > 1:
            defaults.update(CREATE_DEFAULTS_REPLICATED)
        steps.append(Step("create", create_args(spec)))
        volume = Volume(
            name=name,
            status="Created",
            type=volume_type(replica, arbiter, len(bricks)),
            replica=replica,
            arbiter=arbiter,
            bricks=bricks,
            options=defaults,
            transport=transport,
        )
    elif spec.bricks is not None:
        have = (volume.replica, volume.arbiter, volume.bricks, volume.transport)
        if have != spec.layout:
            raise InvalidSpec(
                f"volume {name} exists with {describe_layout(*have)}; declared: "
                f"{describe_layout(*spec.layout)}. This module does not add, remove or "
                "replace bricks: change the declaration, or the volume with gluster volume "
                "add-brick/remove-brick/replace-brick"
            )

    if spec.state == "started" and not volume.started:
        steps.append(Step("start", ["volume", "start", name]))
        volume = replace(volume, status="Started")
    elif spec.state == "stopped" and volume.started:
        steps.append(Step("stop", ["volume", "stop", name]))
        volume = replace(volume, status="Stopped")

    options = dict(volume.options)
    for key, value in spec.options.items():
        if options.get(key) != value:
            steps.append(Step("set", ["volume", "set", name, key, value]))
            options[key] = value
    if spec.purge_options:
        keep = set(spec.options) | set(CREATE_DEFAULTS) | set(CREATE_DEFAULTS_REPLICATED)
        for key in list(options):
            if key not in keep:
                steps.append(Step("reset", ["volume", "reset", name, key]))
                del options[key]
    return VolumePlan(name, steps, current, replace(volume, options=options))


def render_volume(volume: Volume | None) -> str:
    if volume is None:
        return ""
    lines = [
        f"volume: {volume.name}",
        f"type: {volume.type}",
        f"status: {volume.status}",
        f"transport: {volume.transport}",
        f"replica: {volume.replica}",
        f"arbiter: {volume.arbiter}",
        "bricks:",
        *(f"  - {b}" for b in volume.bricks),
        "options:" if volume.options else "options: {}",
        *(f"  {k}: {volume.options[k]}" for k in sorted(volume.options)),
    ]
    return "".join(line + "\n" for line in lines)


def apply_volume(run, plan: VolumePlan) -> list[str]:
    """Run the plan's steps in order; warnings glusterd gave with a success. GlusterError
    names the step that failed and what was done before it."""
    warnings = []
    done = []
    for step in plan.steps:
        reply = call(run, *step.args)
        if not reply.ok:
            hint = ""
            if step.verb == "create" and "Failed to create brick directory" in reply.errstr:
                hint = " (glusterd makes only the brick directory itself: its parent must exist)"
            raise GlusterError(
                f"{step.verb} volume {plan.name}: "
                f"{reply.errstr or f'opErrno {reply.errno}'}{hint} (done before: "
                f"{'; '.join(done) or 'nothing'})"
            )
        if reply.errstr:
            warnings.append(f"{step.verb}: {reply.errstr}")
        done.append(" ".join(step.args))
    return warnings
