"""The document root is one NFS export: a file written once is served by every server."""

import uuid

from conftest import DR, NAT, REAL_SERVERS, TUN


def test_every_real_server_mounts_the_export_as_a_systemd_unit(lab):
    for rs in REAL_SERVERS:
        mount = lab.ssh("findmnt -n -o SOURCE,FSTYPE,OPTIONS /srv/www", guest=rs).stdout
        assert mount.startswith("198.51.100.31:/srv/nfs/www nfs4 ")
        assert "vers=4.2" in mount and "hard" in mount
        state = lab.ssh(
            "systemctl is-enabled srv-www.mount; systemctl is-active srv-www.mount", guest=rs
        ).stdout.split()
        assert state == ["enabled", "active"]


def test_a_file_written_once_on_storage_is_served_by_every_real_server(lab):
    name, body = f"once-{uuid.uuid4().hex[:8]}.txt", uuid.uuid4().hex
    lab.ssh(f"echo {body} > /srv/nfs/www/{name}", guest="nfs1")
    for vip, count in ((DR, 9), (TUN, 12), (NAT, 9)):
        result = lab.probe("split", f"http://{vip}/{name}", "--count", str(count), "--body")
        assert result["errors"] == []
        assert set(result["servers"]) == set(REAL_SERVERS)
        assert result["bodies"] == [body]


def test_a_file_written_on_one_real_server_is_served_by_the_others(lab):
    # all_squash: a write from any client lands as www-data on the server
    name, body = f"rs2-{uuid.uuid4().hex[:8]}.txt", uuid.uuid4().hex
    lab.ssh(f"echo {body} > /srv/www/{name}", guest="rs2")
    owner = lab.ssh(f"stat -c %U /srv/nfs/www/{name}", guest="nfs1").stdout.strip()
    assert owner == "www-data"
    result = lab.probe("split", f"http://{DR}/{name}", "--count", "9", "--body")
    assert result["errors"] == [] and result["servers"] == {rs: 3 for rs in REAL_SERVERS}
    assert result["bodies"] == [body]


def test_exports_are_the_declared_ones_only(lab):
    exports = lab.ssh("exportfs -s", guest="nfs1").stdout
    assert {line.split()[0] for line in exports.splitlines()} == {"/srv/nfs/www"}
    for rs in ("198.51.100.21", "198.51.100.22", "198.51.100.23"):
        assert rs in exports
    # NFSv4 only: no NFSv3 for a client to fall back to
    assert "-3" in lab.ssh("cat /proc/fs/nfsd/versions", guest="nfs1").stdout
