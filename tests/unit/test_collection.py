"""The repository builds as the collection lvs.cluster, and an installed tarball works."""

import json
import os
import subprocess
import tarfile
from pathlib import Path

import ansible
import pytest

REPO = Path(__file__).resolve().parents[2]
# the collections of the pinned ansible package (community.crypto, ...)
ANSIBLE_PACKAGE = Path(ansible.__file__).parents[1]
MODULES = [
    "ipvs",
    "ipvs_info",
    "ipvs_sync_daemon",
    "ipvs_timeouts",
    "realserver",
    "sysctl",
    "glusterfs_peer",
    "glusterfs_volume",
    "config_loaded",
    "host_capabilities",
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        ["ansible-galaxy", "collection", "build", "--force", "--output-path", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    tarball = next(out.glob("lvs-cluster-*.tar.gz"))
    with tarfile.open(tarball) as tar:
        names = tar.getnames()
    assert "plugins/module_utils/netlink.py" in names
    assert not [n for n in names if n.startswith(("lvslab/", ".venv/", "collections/"))]
    dest = tmp_path_factory.mktemp("collections")
    subprocess.run(
        # the dependencies come from the pinned ansible package, not from a Galaxy server
        [
            "ansible-galaxy",
            "collection",
            "install",
            "--force",
            "--no-deps",
            "-p",
            str(dest),
            str(tarball),
        ],
        check=True,
        capture_output=True,
    )
    return dest


@pytest.mark.parametrize("module", MODULES)
def test_installed_modules_document_themselves(installed, module, tmp_path):
    # an empty config, so only the installed tarball is on the collections path
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(installed),
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
    }
    proc = subprocess.run(
        ["ansible-doc", "--json", f"lvs.cluster.{module}"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)[f"lvs.cluster.{module}"]
    assert doc["doc"]["short_description"]
    assert doc["examples"].strip()
    assert doc["return"] is not None
    assert str(installed) in doc["doc"]["filename"]


def test_installed_roles_and_playbooks_are_there(installed):
    root = installed / "ansible_collections" / "lvs" / "cluster"
    assert (root / "roles" / "lvs_director" / "meta" / "argument_specs.yml").exists()
    assert (root / "playbooks" / "site.yml").exists()


def _installed_site(installed, tmp_path, *args):
    """ansible-playbook lvs.cluster.site from the installed tarball only."""
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    env = {
        **os.environ,
        # the installed tarball first, then the collections it depends on
        "ANSIBLE_COLLECTIONS_PATH": f"{installed}{os.pathsep}{ANSIBLE_PACKAGE}",
        "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg"),
        "ANSIBLE_NOCOLOR": "1",
    }
    inventory = REPO / "inventory" / "web"
    return subprocess.run(
        ["ansible-playbook", "lvs.cluster.site", "-i", str(inventory), "-i", "localhost,", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )


def test_installed_site_passes_syntax_check(installed, tmp_path):
    proc = _installed_site(installed, tmp_path, "--syntax-check")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # the playbook was taken from the installed collection, not from this checkout
    assert (
        f"playbook: {installed}/ansible_collections/lvs/cluster/playbooks/site.yml" in proc.stdout
    )


def test_installed_site_runs_its_preflight(installed, tmp_path):
    # every play after the preflight matches only localhost, which has no part in the plan
    proc = _installed_site(installed, tmp_path, "-v", "--limit", "localhost")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "cluster web: 2 director(s), 3 real server(s), 4 VIP(s), 4 service(s)" in out
