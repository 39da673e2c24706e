"""The repository builds as the collection lvs.cluster, and an installed tarball works."""

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = [
    "ipvs",
    "ipvs_info",
    "ipvs_sync_daemon",
    "ipvs_timeouts",
    "glusterfs_peer",
    "glusterfs_volume",
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
        ["ansible-galaxy", "collection", "install", "--force", "-p", str(dest), str(tarball)],
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
    assert (root / "site.yml").exists()
