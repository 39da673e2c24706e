"""Counts model validations per ansible-playbook run, for the scenarios' plan test.

Put this directory on PYTHONPATH and name a file in LVS_MODEL_LOG: every
ansible-playbook process then writes "<run> start <argv>" once, and each validation of
the whole model (logger "lvs.model", in the main process or in any forked worker)
writes "<run> <pid> validating ..." under the same run id, the main process's pid.
"""

import logging
import os
import sys

_path = os.environ.get("LVS_MODEL_LOG")
if _path and os.path.basename(sys.argv[0] if sys.argv else "") == "ansible-playbook":
    _run = os.getpid()
    with open(_path, "a", encoding="utf-8") as _log:
        _log.write(f"{_run} start {' '.join(sys.argv[1:])}\n")
    _handler = logging.FileHandler(_path, encoding="utf-8")
    _handler.setFormatter(logging.Formatter(f"{_run} %(process)d %(message)s"))
    _logger = logging.getLogger("lvs.model")
    _logger.addHandler(_handler)
    _logger.setLevel(logging.INFO)
    _logger.propagate = False
