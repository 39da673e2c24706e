"""The XSAVE wrapper that lets the UML 6.1 kernel run on hosts with AVX-512 or AMX.

UML 6.1 sets each guest task's FPU state with an 832-byte PTRACE_SETREGSET, which hosts
with a larger XSAVE area refuse (uml_xstate.c says why and how the wrapper works). The
wrapper is compiled once per source text into the cache and preloaded into every guest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from . import LabError
from .paths import CACHE_DIR

SOURCE = Path(__file__).with_name("uml_xstate.c")


def library() -> Path:
    """The compiled wrapper, built when its source changed."""
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:16]
    lib = CACHE_DIR / f"uml-xstate-{digest}.so"
    if lib.exists():
        return lib
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    partial = lib.with_suffix(f".{os.getpid()}.tmp")
    cmd = ["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-o", str(partial), str(SOURCE), "-ldl"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise LabError("gcc not found: run `make deps` (host packages)") from exc
    except subprocess.CalledProcessError as exc:
        raise LabError(f"building {SOURCE.name} failed:\n{exc.stderr}") from exc
    partial.replace(lib)  # atomic: concurrent `up`s never load a half-written file
    return lib
