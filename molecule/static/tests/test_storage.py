"""GlusterFS under the real servers: a replica-3 volume on three storage servers, mounted
by both real servers; it stays readable and writable while one storage server is dead,
the dead brick heals when it returns, and a real server remounts at boot from a backup
volfile server."""

import time
import uuid

from conftest import DR, NAT, wait_for

GLUSTER = ["gl1", "gl2", "gl3"]
BRICKS = [f"198.51.100.4{i}:/srv/gluster/www/brick" for i in (1, 2, 3)]


def served(lab, vip, name, count=8):
    return lab.probe(
        "split", f"http://{vip}/{name}", "--count", str(count), "--body", "--timeout", "20"
    )


def test_replicated_volume_on_its_own_disks(lab):
    info = lab.ssh("gluster --mode=script volume info www", guest="gl1").stdout
    assert "Type: Replicate" in info and "Status: Started" in info
    assert "Number of Bricks: 1 x 3 = 3" in info
    for brick in BRICKS:
        assert brick in info
    assert "network.ping-timeout: 5" in info and "cluster.quorum-type: auto" in info
    pool = lab.ssh("gluster --mode=script pool list", guest="gl2").stdout
    assert pool.count("Connected") == 3
    for gl in GLUSTER:
        mount = lab.ssh("findmnt -n -o SOURCE,FSTYPE /srv/gluster", guest=gl).stdout.split()
        assert mount == ["/dev/ubdb", "xfs"]


def test_real_servers_mount_the_volume_with_backup_volfile_servers(lab):
    for rs in ("rs1", "rs2"):
        fstype = lab.ssh("findmnt -n -o SOURCE,FSTYPE /srv/www", guest=rs).stdout.split()
        assert fstype == ["198.51.100.41:/www", "fuse.glusterfs"]
        unit = lab.ssh("systemctl cat srv-www.mount", guest=rs).stdout
        assert "backup-volfile-servers=198.51.100.42:198.51.100.43" in unit
        assert lab.ssh("systemctl is-enabled srv-www.mount", guest=rs).stdout.strip() == "enabled"


def test_a_file_written_once_is_served_by_every_real_server(lab):
    name, body = f"once-{uuid.uuid4().hex[:8]}.txt", uuid.uuid4().hex
    lab.ssh(f"echo {body} > /srv/www/{name}", guest="rs1")
    for vip in (DR, NAT):
        result = served(lab, vip, name)
        assert result["errors"] == [] and set(result["servers"]) == {"rs1", "rs2"}
        assert result["bodies"] == [body]
    # on every brick: replica 3
    for gl in GLUSTER:
        assert lab.ssh(f"cat /srv/gluster/www/brick/{name}", guest=gl).stdout.strip() == body


def test_storage_server_crash_reads_writes_heal_and_real_server_reboot(lab):
    # gl1 is the server both real servers mounted from
    lab.lvslab("crash", "gl1")
    name, body = f"outage-{uuid.uuid4().hex[:8]}.txt", uuid.uuid4().hex
    # the first write waits out network.ping-timeout (5 s) before gl1 is dropped
    began = time.monotonic()
    lab.ssh(f"echo {body} > /srv/www/{name}", guest="rs2", timeout=60)
    print(f"first write after the crash took {time.monotonic() - began:.1f} s")
    for vip in (DR, NAT):
        result = served(lab, vip, name)
        assert result["errors"] == [] and set(result["servers"]) == {"rs1", "rs2"}
        assert result["bodies"] == [body]
    # a real server booting now mounts from a backup volfile server
    lab.lvslab("stop", "rs1")
    lab.lvslab("start", "rs1")
    wait_for(
        "rs1 serving from /srv/www",
        lambda: (
            lab.ssh("systemctl is-active nginx", guest="rs1", check=False).stdout.strip()
            == "active"
        ),
        90,
    )
    assert lab.ssh(f"cat /srv/www/{name}", guest="rs1", timeout=60).stdout.strip() == body
    lab.ssh(f"echo {body}-2 >> /srv/www/{name}", guest="rs1", timeout=60)
    result = served(lab, DR, name)
    assert result["errors"] == [] and set(result["servers"]) == {"rs1", "rs2"}
    assert result["bodies"] == [f"{body}\n{body}-2"]
    # gl1 returns: brick file system and glusterd come back at boot, and the self-heal
    # daemon copies what was written during the outage onto its brick
    lab.lvslab("start", "gl1")
    began = time.monotonic()
    wait_for(
        "the file written during the outage on gl1's brick",
        lambda: (
            lab.ssh(f"cat /srv/gluster/www/brick/{name}", guest="gl1", check=False).stdout.strip()
            == f"{body}\n{body}-2"
        ),
        180,
        2,
    )
    print(f"healed onto gl1's brick {time.monotonic() - began:.1f} s after it was ssh-ready")
    wait_for(
        "no heal pending",
        lambda: (
            lab.ssh(
                "gluster --mode=script volume heal www info summary", guest="gl1", check=False
            ).stdout.count("Number of entries: 0")
            == 3
        ),
        120,
        2,
    )
