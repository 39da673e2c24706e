# Copyright: lvs.cluster contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-task wall-clock times, printed as a table at the end of a run."""

from __future__ import annotations

DOCUMENTATION = r"""
name: task_timer
type: aggregate
short_description: print the slowest tasks of a run and their wall-clock times
description:
  - Records how long each task took over all hosts (first start to last result)
    and prints the slowest ones, with the run's total, when the playbook ends.
  - ansible-core ships no per-task timing callback; this one has no dependencies.
options:
  top:
    description: How many of the slowest tasks to print.
    type: int
    default: 12
    env:
      - name: LVS_TASK_TIMER_TOP
requirements:
  - enable in ansible.cfg with C(callbacks_enabled = lvs.cluster.task_timer)
"""

import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lvs.cluster.task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started = time.monotonic()
        self._times: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def _close(self) -> None:
        if self._current:
            name, began = self._current
            self._times[name] = self._times.get(name, 0.0) + time.monotonic() - began
            self._current = None

    def _open(self, task) -> None:
        self._close()
        play = task.play.get_name() if getattr(task, "play", None) else ""
        self._current = (f"{play} : {task.get_name()}", time.monotonic())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._open(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._open(task)

    def v2_playbook_on_stats(self, stats):
        self._close()
        top = self.get_option("top")
        total = time.monotonic() - self._started
        self._display.banner(f"TASK TIMES (slowest {top}, run {total:.1f} s)")
        for name, secs in sorted(self._times.items(), key=lambda kv: -kv[1])[:top]:
            self._display.display(f"{secs:7.2f} s  {name}")
