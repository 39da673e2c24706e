"""One batch of kernel settings (module_utils/sysctl.py), against a fake /proc/sys."""

from __future__ import annotations

import pytest
import yaml
from ansible_collections.lvs.cluster.plugins.module_utils import sysctl
from ansible_collections.lvs.cluster.plugins.modules import sysctl as sysctl_module


@pytest.fixture
def proc(tmp_path):
    """A /proc/sys with a few keys, as the kernel prints them."""
    values = {
        "net.ipv4.ip_forward": "0",
        "net.ipv4.vs.drop_entry": "0",
        "net.ipv4.vs.sync_threshold": "3\t50",
    }
    for key, value in values.items():
        path = tmp_path / "sys" / key.replace(".", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value + "\n")
    return tmp_path


@pytest.mark.parametrize(
    ("value", "text"),
    [(1, "1"), (True, "1"), ("3 50", "3 50"), ([3, 50], "3 50"), (" 3\t 50\n", "3 50")],
)
def test_values_compare_as_the_kernel_prints_them(value, text):
    assert sysctl.normalize(value) == text


CASES = [
    ("no-op", {"net.ipv4.vs.sync_threshold": [3, 50], "net.ipv4.ip_forward": 0}, {}),
    ("one-differs", {"net.ipv4.ip_forward": 1, "net.ipv4.vs.drop_entry": 0},
     {"net.ipv4.ip_forward": ("0", "1")}),
    ("missing-key", {"net.ipv4.vs.am_droprate": 10}, {"net.ipv4.vs.am_droprate": (None, "10")}),
    ("nothing-wanted", {}, {}),
]  # fmt: skip


@pytest.mark.parametrize(("wanted", "changes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_only_differing_values_are_changes(proc, wanted, changes):
    batch = sysctl.Batch(wanted, root=str(proc / "sys")).read()
    assert batch.changes == changes
    assert batch.changed == bool(changes)


def test_batch_writes_the_differences_then_the_file_and_a_rerun_is_clean(proc):
    path = proc / "etc/sysctl.d/60-test.conf"
    wanted = {
        "net.ipv4.vs.drop_entry": 1,
        "net.ipv4.ip_forward": 1,
        "net.ipv4.vs.sync_threshold": "3 50",
    }
    batch = sysctl.Batch(wanted, str(path), "# test\n", root=str(proc / "sys")).read()
    assert batch.file_changed and set(batch.changes) == {
        "net.ipv4.vs.drop_entry",
        "net.ipv4.ip_forward",
    }
    assert batch.apply() == [
        "sysctl net.ipv4.vs.drop_entry = 1",
        "sysctl net.ipv4.ip_forward = 1",
        f"write {path}",
    ]
    assert (proc / "sys/net/ipv4/ip_forward").read_text() == "1\n"
    # untouched: its value already matched
    assert (proc / "sys/net/ipv4/vs/sync_threshold").read_text() == "3\t50\n"
    assert path.read_text() == (
        "# test\nnet.ipv4.ip_forward = 1\nnet.ipv4.vs.drop_entry = 1\n"
        "net.ipv4.vs.sync_threshold = 3 50\n"
    )
    assert path.stat().st_mode & 0o777 == 0o644
    assert not sysctl.Batch(wanted, str(path), "# test\n", root=str(proc / "sys")).read().changed


def test_an_interrupted_run_is_completed_by_the_next(proc):
    """The file written, the live value not: the next run still finds the difference."""
    path = proc / "60-test.conf"
    wanted = {"net.ipv4.ip_forward": 1}
    path.write_text(sysctl.render(wanted, "# h\n"))
    batch = sysctl.Batch(wanted, str(path), "# h\n", root=str(proc / "sys")).read()
    assert not batch.file_changed
    assert batch.changes == {"net.ipv4.ip_forward": ("0", "1")}


def test_a_missing_key_fails_by_name(proc):
    batch = sysctl.Batch({"net.ipv4.vs.nonsense": 1}, root=str(proc / "sys")).read()
    with pytest.raises(OSError, match=r"sysctl net.ipv4.vs.nonsense = 1"):
        batch.apply()


def test_diff_shows_live_values_and_the_file(proc):
    path = proc / "60-test.conf"
    batch = sysctl.Batch({"net.ipv4.ip_forward": 1}, str(path), "# h\n", root=str(proc / "sys"))
    live, file = batch.read().diff()
    assert (live["before"], live["after"]) == (
        "net.ipv4.ip_forward = 0\n",
        "net.ipv4.ip_forward = 1\n",
    )
    assert (file["before"], file["after"]) == ("", "# h\nnet.ipv4.ip_forward = 1\n")


def test_module_documentation_names_its_options():
    doc = yaml.safe_load(sysctl_module.DOCUMENTATION)["options"]
    assert set(doc) == {"values", "path", "header"}
    assert doc["values"]["required"] and doc["path"]["type"] == "path"
