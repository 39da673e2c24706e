"""glusterfs_peer and glusterfs_volume against glusterd 10.3 in the lab guest.

One node: the pool is the guest itself, and the replica 3 volume has its three bricks
on it (hence force). The oracles are gluster's own text output and a FUSE mount.
"""

import re

import pytest

VOL = "ktest"
BRICK_ROOT = "/srv/gl"
MOUNT = "/mnt/x"

CLEAN = (
    f"umount -l {MOUNT} 2>/dev/null; "
    f"gluster --mode=script volume stop {VOL} force >/dev/null 2>&1; "
    f"gluster --mode=script volume delete {VOL} >/dev/null 2>&1; "
    f"rm -rf {BRICK_ROOT}; mkdir -p {BRICK_ROOT}"
)


@pytest.fixture(scope="module")
def glusterd(lab):
    lab.ssh("modprobe fuse && systemctl start glusterd && systemctl is-active glusterd")
    yield lab
    lab.ssh(
        f"{CLEAN}; rmdir {BRICK_ROOT} {MOUNT} 2>/dev/null; systemctl stop glusterd", check=False
    )


@pytest.fixture
def gl(glusterd):
    lab = glusterd
    lab.ssh(CLEAN)
    yield lab
    lab.ssh(CLEAN, check=False)


def address(lab):
    return lab.state["guests"]["dir1"]["management"]


def bricks(lab, *names):
    return [f"{address(lab)}:{BRICK_ROOT}/{n}" for n in names]


def declared(lab, **kw):
    return {
        "name": VOL,
        "bricks": bricks(lab, "a", "b", "c"),
        "replica": 3,
        "force": True,
        "options": {"network.ping-timeout": 5},
        **kw,
    }


def volume(lab, args, **kw):
    result = lab.module("glusterfs_volume", args, diff=True, **kw)
    assert not result.get("failed"), result.get("msg")
    return result


def info(lab):
    """`gluster volume info` as text: the oracle, independent of the module's XML parser."""
    return lab.ssh(f"gluster --mode=script volume info {VOL}", check=False).stdout


def missing(lab):
    return lab.ssh(f"gluster --mode=script volume info {VOL} 2>&1", check=False).stdout


def field(text, name):
    match = re.search(rf"^{re.escape(name)}: (.*)$", text, re.M)
    return match and match.group(1).strip()


def test_peer_on_a_single_node_is_itself_and_a_no_op(glusterd):
    lab = glusterd
    uuid = lab.ssh("gluster --mode=script system:: uuid get").stdout.split()[-1]
    for check_mode in (True, False):
        result = lab.module(
            "glusterfs_peer",
            {"peers": [address(lab), "localhost"], "timeout": 10},
            check_mode=check_mode,
            diff=True,
        )
        assert not result.get("failed"), result.get("msg")
        assert (result["changed"], result["probed"]) == (False, [])
        assert result["local"] == [address(lab), "localhost"]
        assert result["peers"] == [
            {"hostname": "localhost", "uuid": uuid, "state": None, "connected": True, "local": True}
        ]
        assert (
            result["diff"]["before"] == result["diff"]["after"] == f"localhost {uuid} (this node)\n"
        )


def test_create_started_then_no_change(gl):
    lab = gl
    check = volume(lab, declared(lab), check_mode=True)
    assert check["changed"] and len(check["commands"]) == 3
    assert "Volume ktest does not exist" in missing(lab)

    first = volume(lab, declared(lab))
    assert first["changed"]
    assert (
        first["commands"]
        == check["commands"]
        == [
            "gluster --mode=script --xml volume create ktest replica 3 transport tcp "
            + " ".join(bricks(lab, "a", "b", "c"))
            + " force",
            "gluster --mode=script --xml volume start ktest",
            "gluster --mode=script --xml volume set ktest network.ping-timeout 5",
        ]
    )
    text = info(lab)
    assert field(text, "Status") == "Started"
    assert field(text, "Type") == "Replicate"
    assert field(text, "Number of Bricks") == "1 x 3 = 3"
    assert field(text, "network.ping-timeout") == "5"
    assert first["volume"]["status"] == "Started"
    assert first["volume"]["bricks"] == bricks(lab, "a", "b", "c")
    assert first["diff"]["before"] == ""
    # check mode predicted the volume glusterd made, options it adds by itself included
    assert first["diff"]["after"] == check["diff"]["after"]

    again = volume(lab, declared(lab))
    assert (again["changed"], again["commands"]) == (False, [])
    assert again["volume"] == first["volume"]


def test_option_change_in_check_mode_then_for_real(gl):
    lab = gl
    volume(lab, declared(lab))
    change = declared(lab, options={"network.ping-timeout": 10, "performance.readdir-ahead": False})
    check = volume(lab, change, check_mode=True)
    assert check["changed"]
    assert check["commands"] == [
        "gluster --mode=script --xml volume set ktest network.ping-timeout 10",
        "gluster --mode=script --xml volume set ktest performance.readdir-ahead off",
    ]
    assert field(info(lab), "network.ping-timeout") == "5"
    assert field(info(lab), "performance.readdir-ahead") is None
    assert "-  network.ping-timeout: 5\n" in diff_lines(check)
    assert "+  network.ping-timeout: 10\n" in diff_lines(check)

    applied = volume(lab, change)
    assert applied["changed"] and applied["commands"] == check["commands"]
    text = info(lab)
    assert (field(text, "network.ping-timeout"), field(text, "performance.readdir-ahead")) == (
        "10",
        "off",
    )
    assert applied["diff"]["after"] == check["diff"]["after"]
    assert not volume(lab, change)["changed"]


def diff_lines(result):
    before = result["diff"]["before"].splitlines(keepends=True)
    after = result["diff"]["after"].splitlines(keepends=True)
    return [f"-{x}" for x in before if x not in after] + [f"+{x}" for x in after if x not in before]


def test_undeclared_options_stay_unless_purged(gl):
    lab = gl
    volume(lab, declared(lab))
    lab.ssh(f"gluster --mode=script volume set {VOL} performance.readdir-ahead off")
    assert not volume(lab, declared(lab))["changed"]
    purge = volume(lab, declared(lab, purge_options=True))
    assert purge["commands"] == [
        "gluster --mode=script --xml volume reset ktest performance.readdir-ahead"
    ]
    text = info(lab)
    assert field(text, "performance.readdir-ahead") is None
    assert field(text, "network.ping-timeout") == "5"
    assert field(text, "nfs.disable") == "on"  # set by glusterd at create: kept
    assert not volume(lab, declared(lab, purge_options=True))["changed"]


def test_other_bricks_are_a_clear_error(gl):
    lab = gl
    volume(lab, declared(lab))
    before = info(lab)
    other = declared(lab, bricks=bricks(lab, "a", "b", "d"))
    for check_mode in (True, False):
        result = lab.module("glusterfs_volume", other, check_mode=check_mode)
        assert result["failed"]
        have, want = ", ".join(bricks(lab, "a", "b", "c")), ", ".join(bricks(lab, "a", "b", "d"))
        assert result["msg"] == (
            f"volume ktest exists with replica 3, transport tcp, bricks {have}; declared: "
            f"replica 3, transport tcp, bricks {want}. This module does not add, remove or "
            "replace bricks: change the declaration, or the volume with gluster volume "
            "add-brick/remove-brick/replace-brick"
        )
    assert info(lab) == before


def test_missing_brick_parent_is_a_clear_error(gl):
    lab = gl
    result = lab.module(
        "glusterfs_volume",
        declared(lab, bricks=[f"{address(lab)}:/srv/nosuch/{n}" for n in "abc"]),
    )
    assert result["failed"]
    assert "Failed to create brick directory" in result["msg"]
    assert "its parent must exist" in result["msg"]
    assert "Volume ktest does not exist" in missing(lab)


def test_stopped_then_absent(gl):
    lab = gl
    volume(lab, declared(lab))
    stop = volume(lab, declared(lab, state="stopped"))
    assert stop["commands"] == ["gluster --mode=script --xml volume stop ktest"]
    assert field(info(lab), "Status") == "Stopped"
    assert not volume(lab, declared(lab, state="stopped"))["changed"]
    # present neither starts nor stops
    assert not volume(lab, declared(lab, state="present"))["changed"]

    check = volume(lab, {"name": VOL, "state": "absent"}, check_mode=True)
    assert check["commands"] == ["gluster --mode=script --xml volume delete ktest"]
    assert field(info(lab), "Status") == "Stopped"
    gone = volume(lab, {"name": VOL, "state": "absent"})
    assert gone["changed"] and gone["volume"] == {} and gone["diff"]["after"] == ""
    assert "Volume ktest does not exist" in missing(lab)
    assert not volume(lab, {"name": VOL, "state": "absent"})["changed"]


def test_a_client_mount_writes_and_reads_every_replica_then_absent(gl):
    lab = gl
    volume(lab, declared(lab))
    lab.ssh(f"mkdir -p {MOUNT} && mount -t glusterfs 127.0.0.1:/{VOL} {MOUNT}")
    try:
        lab.ssh(f"echo 'written through fuse' > {MOUNT}/hello.txt && sync")
        assert lab.ssh(f"cat {MOUNT}/hello.txt").stdout == "written through fuse\n"
        assert lab.ssh(f"findmnt -n -o FSTYPE {MOUNT}").stdout.strip() == "fuse.glusterfs"
        # replica 3: each brick holds its own copy
        for brick in "abc":
            assert lab.ssh(f"cat {BRICK_ROOT}/{brick}/hello.txt").stdout == "written through fuse\n"
    finally:
        lab.ssh(f"umount {MOUNT}", check=False)
    gone = volume(lab, {"name": VOL, "state": "absent"})
    assert gone["commands"] == [
        "gluster --mode=script --xml volume stop ktest",
        "gluster --mode=script --xml volume delete ktest",
    ]
    assert "Volume ktest does not exist" in missing(lab)
    # the data stays in the bricks
    assert lab.ssh(f"cat {BRICK_ROOT}/a/hello.txt").stdout == "written through fuse\n"


def test_replica_two_with_an_arbiter(gl):
    # what the model's `replica: 2, arbiter: true` becomes: gluster's replica 3 arbiter 1
    lab = gl
    args = declared(lab, arbiter=1)
    first = volume(lab, args)
    assert first["changed"]
    assert "replica 3 arbiter 1 transport tcp" in first["commands"][0]
    text = info(lab)
    assert field(text, "Number of Bricks") == "1 x (2 + 1) = 3"
    assert f"{BRICK_ROOT}/c (arbiter)" in text
    assert first["volume"]["arbiter"] == 1
    again = volume(lab, args)
    assert (again["changed"], again["commands"]) == (False, [])
    # the same bricks without the arbiter is another layout: refused, nothing touched
    refused = lab.module("glusterfs_volume", declared(lab, arbiter=0))
    assert refused.get("failed") and "arbiter" in refused["msg"]
    assert "(arbiter)" in info(lab)
