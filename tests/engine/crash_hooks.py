"""A hook that kills or signals its own training process at a chosen point, for kill / resume tests.

``VK_CRASH`` lists what to do, comma-separated, each ``ACTION@POINT:N``:

- ACTION: ``kill`` (SIGKILL: nothing runs after it, as ``kill -9``), ``term`` / ``usr1`` (SIGTERM /
  SIGUSR1, which training is meant to survive with a checkpoint) or ``termall`` (SIGTERM to the whole
  process group, data loader workers included, as Slurm and Kubernetes send it);
- POINT: ``train`` (after training iteration N, i.e. mid-epoch unless N ends one), ``save`` (while the
  checkpoint written after iteration N is half on disk), ``val`` (after the first batch of the
  validation that follows iteration N).

``VK_CRASH_RANK`` (optional) limits it to one process of a distributed run. Configs load this module
with ``custom_imports``; without ``VK_CRASH`` the hook does nothing, so reference runs use the same config.
"""

from __future__ import annotations

import os
import signal

from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import Hook

from visionkit.registry import HOOKS

SIGNALS = {"kill": signal.SIGKILL, "term": signal.SIGTERM, "usr1": signal.SIGUSR1, "termall": -signal.SIGTERM}


def _plan() -> list[tuple[int, str, int]]:
    rank = os.environ.get("VK_CRASH_RANK")
    if rank is not None and rank != os.environ.get("RANK", os.environ.get("SLURM_PROCID", "0")):
        return []
    plan = []
    for item in filter(None, os.environ.get("VK_CRASH", "").split(",")):
        action, _, where = item.partition("@")
        point, _, step = where.partition(":")
        plan.append((SIGNALS[action], point, int(step)))
    return plan


def _fire(signum: int) -> None:
    if signum < 0:  # the process group: start the run in a session of its own
        os.killpg(os.getpgrp(), -signum)
    else:
        os.kill(os.getpid(), signum)


@HOOKS.register_module()
class CrashHook(Hook):
    """Carries out ``VK_CRASH`` (see the module)."""

    priority = "LOWEST"

    def __init__(self) -> None:
        self.plan = _plan()
        self._iter = 0
        if any(point == "save" for _, point, _ in self.plan):
            self._patch_writes()

    def _due(self, point: str) -> list[int]:
        return [signum for signum, where, step in self.plan if where == point and step == self._iter]

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        self._iter = runner.iter + 1  # the iteration now running (its checkpoint hooks see this too)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        for signum in self._due("train"):
            _fire(signum)

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        if batch_idx == 0:
            for signum in self._due("val"):
                _fire(signum)

    def _patch_writes(self) -> None:
        put, hook = LocalBackend.put, self

        def put_then_crash(backend, obj, filepath):
            signums = hook._due("save") if str(filepath).endswith(".tmp") else []
            if not signums:
                return put(backend, obj, filepath)
            with open(filepath, "wb") as f:  # half the checkpoint reaches the disk
                f.write(obj[: len(obj) // 2])
                f.flush()
                for signum in signums:
                    _fire(signum)
                f.write(obj[len(obj) // 2 :])

        LocalBackend.put = put_then_crash
