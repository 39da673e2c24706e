"""nfs_server and nfs_client (with systemd_mount) on one guest, which serves and mounts.

The guest exports two directories to itself and mounts both over NFSv4.2 as systemd
mount units; a second run changes nothing; dropping one share from the lists removes
its export and its unit (check mode first: reported, not done). The oracles are
exportfs, findmnt and systemctl in the guest.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from lvslab.testing import REPO

PLAYBOOK = """\
- name: NFS server and client on one host
  hosts: dir1
  gather_facts: false
  roles:
    - role: nfs_server
    - role: nfs_client
"""
SHARES = {"ka": "/srv/ktest-a", "kb": "/srv/ktest-b"}
# ka keeps the role's default options (root_squash), kb lets root write
OPTIONS = {"kb": {"options": ["rw", "sync", "no_subtree_check", "no_root_squash"]}}
CLEAN = (
    "systemctl stop mnt-ktest\\\\x2da.mount mnt-ktest\\\\x2db.mount 2>/dev/null; "
    "rm -f /etc/systemd/system/mnt-ktest*.mount /etc/exports.d/lvs-cluster.exports; "
    "systemctl daemon-reload; exportfs -ra 2>/dev/null; rm -rf /srv/ktest-a /srv/ktest-b "
    "/mnt/ktest-a /mnt/ktest-b; systemctl stop nfs-server 2>/dev/null; true"
)


def _vars(names):
    return {
        "nfs_server_exports": [
            {"name": n, "path": SHARES[n], "clients": ["127.0.0.1"], **OPTIONS.get(n, {})}
            for n in names
        ],
        "nfs_client_mounts": [
            {
                "name": n,
                "source": f"127.0.0.1:{SHARES[n]}",
                "path": f"/mnt/ktest-{n[1]}",
                "version": "4.2",
                "options": ["hard", "noatime"],
            }
            for n in names
        ],
    }


@pytest.fixture(scope="module")
def nfs(lab, tmp_path_factory):
    lab.ssh(CLEAN, check=False)
    book = tmp_path_factory.mktemp("nfs") / "nfs.yml"
    book.write_text(PLAYBOOK)

    def run(names, *args):
        proc = subprocess.run(
            [
                "ansible-playbook",
                "-i",
                lab.state["inventory"],
                "-i",
                str(REPO / "inventory" / "smoke"),
                str(book),
                "-e",
                json.dumps(_vars(names)),
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        recap = re.search(r"^dir1\s+:\s+(ok=.*)$", proc.stdout, re.M).group(1)
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap)}

    yield lab, run
    lab.ssh(CLEAN, check=False)


def mounted(lab):
    out = lab.ssh("findmnt -n -t nfs4 -o TARGET,SOURCE", check=False).stdout
    return {line.split()[0]: line.split()[1] for line in out.splitlines()}


def test_exports_and_mounts_apply_then_change_nothing(nfs):
    lab, run = nfs
    assert run(["ka", "kb"])["changed"] > 0
    assert mounted(lab) == {
        "/mnt/ktest-a": "127.0.0.1:/srv/ktest-a",
        "/mnt/ktest-b": "127.0.0.1:/srv/ktest-b",
    }
    options = lab.ssh("findmnt -n -o OPTIONS /mnt/ktest-a").stdout
    assert "vers=4.2" in options and "hard" in options
    units = lab.ssh("systemctl is-enabled 'mnt-ktest\\x2da.mount' 'mnt-ktest\\x2db.mount'")
    assert units.stdout.split() == ["enabled", "enabled"]
    # each export's options apply: root is squashed on ka, not on kb
    assert lab.ssh("echo k > /mnt/ktest-a/f", check=False).returncode != 0
    assert lab.ssh("echo k > /mnt/ktest-b/f && cat /srv/ktest-b/f").stdout.strip() == "k"
    assert run(["ka", "kb"])["changed"] == 0


def test_a_dropped_share_loses_its_export_and_unit_check_mode_first(nfs):
    lab, run = nfs
    before = lab.ssh("exportfs -s").stdout
    assert run(["ka"], "--check")["changed"] > 0
    assert lab.ssh("exportfs -s").stdout == before
    assert "/mnt/ktest-b" in mounted(lab)
    assert run(["ka"])["changed"] > 0
    exports = lab.ssh("exportfs -s").stdout
    assert "/srv/ktest-a" in exports and "/srv/ktest-b" not in exports
    assert mounted(lab) == {"/mnt/ktest-a": "127.0.0.1:/srv/ktest-a"}
    assert lab.ssh("ls /etc/systemd/system/ | grep -c '^mnt-ktest' || true").stdout.strip() == "1"
    assert run(["ka"])["changed"] == 0
