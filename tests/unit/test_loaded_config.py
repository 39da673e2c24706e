"""lvs.cluster.config_loaded: a service reloads when its files differ from what it loaded.

The module runs for real on the controller (connection local) against files and a
record folder under tmp_path; the commands are ordinary programs that leave a trace.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_collections.lvs.cluster.plugins.module_utils import loaded_config

BIN = Path(sys.executable).parent


def test_digest_follows_content_order_and_absence(tmp_path):
    a, b = tmp_path / "a.conf", tmp_path / "b.conf"
    a.write_text("one\n")
    b.write_text("two\n")
    first = loaded_config.digest([str(a), str(b)])
    assert first == loaded_config.digest([str(a), str(b)])
    assert first != loaded_config.digest([str(b), str(a)])
    b.write_text("two!\n")
    assert loaded_config.digest([str(a), str(b)]) != first
    b.unlink()
    gone = loaded_config.digest([str(a), str(b)])
    b.write_text("")
    assert loaded_config.digest([str(a), str(b)]) != gone  # empty is not absent


def test_record_is_written_atomically_and_read_back(tmp_path):
    state = tmp_path / "state"
    assert loaded_config.recorded("nginx", str(state)) is None
    loaded_config.record("nginx", "abc", str(state))
    assert loaded_config.recorded("nginx", str(state)) == "abc"
    assert sorted(os.listdir(state)) == ["nginx.sha256"]
    with pytest.raises(ValueError):
        loaded_config.record_path("../etc/passwd")


def _module(tmp_path, args, check=False):
    cmd = [
        str(BIN / "ansible"),
        "localhost",
        "-c",
        "local",
        "-i",
        "localhost,",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-m",
        "lvs.cluster.config_loaded",
        "-a",
        json.dumps(args),
        *(["--check"] if check else []),
    ]
    env = {**os.environ, "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1", "ANSIBLE_STDOUT_CALLBACK": "json"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path)
    # the JSON report, then whatever aggregate callbacks print after it
    out, _ = json.JSONDecoder().raw_decode(proc.stdout)
    return out["plays"][0]["tasks"][0]["hosts"]["localhost"]


def test_module_reloads_once_and_repairs_after_a_failed_reload(tmp_path):
    conf, trace = tmp_path / "svc.conf", tmp_path / "trace"
    conf.write_text("v1\n")
    args = {
        "name": "svc",
        "paths": [str(conf)],
        "state_dir": str(tmp_path / "state"),
        "commands": [["sh", "-c", f"echo reload >> {trace}"]],
    }
    # check mode: would load, runs nothing, records nothing
    result = _module(tmp_path, args, check=True)
    assert result["changed"] and not trace.exists() and not (tmp_path / "state").exists()
    assert _module(tmp_path, args)["changed"]
    assert _module(tmp_path, args)["changed"] is False
    assert trace.read_text() == "reload\n"
    # a new file whose reload fails (what an interrupted run leaves): not recorded...
    conf.write_text("v2\n")
    failing = {**args, "commands": [["sh", "-c", "exit 3"]]}
    failed = _module(tmp_path, failing)
    assert failed.get("failed") and "nothing recorded" in failed["msg"]
    # ...so the next run loads it, although the file did not change since
    assert _module(tmp_path, args)["changed"]
    assert trace.read_text() == "reload\nreload\n"
    assert _module(tmp_path, args)["changed"] is False
