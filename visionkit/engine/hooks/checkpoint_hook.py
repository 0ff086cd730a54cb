"""mmengine's ``CheckpointHook`` that never leaves a broken ``last_checkpoint``, saves mid-epoch and on
preemption, and deletes no path a resumed checkpoint names."""

from __future__ import annotations

import math
import os
import re
from typing import Any

from mmengine.dist import barrier, is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.logging import print_log

from ...models.untrusted_text import shown
from ...registry import HOOKS
from ..checkpoint_io import on_main_process, write_text_atomically
from ..preemption import TrainingPreempted

RESUME_CKPT_KEY = "resume_ckpt"  # message hub: the newest mid-epoch checkpoint, deleted once superseded


def _is_step_list(ids: Any, last: int) -> bool:
    """Whether ``ids`` are checkpoint steps as the hook records them: ascending ints up to ``last``."""
    return (
        type(ids) is list and all(type(i) is int and 0 <= i <= last for i in ids) and ids == sorted(set(ids))
    )


@HOOKS.register_module()
class CheckpointHook(MMEngineCheckpointHook):
    """Saves like mmengine's 0.10 hook (through ``runner.save_checkpoint``, atomic in visionkit's Runner),
    with four differences.

    - Order: the checkpoint is written, then ``work_dir/last_checkpoint`` is replaced atomically to name
      it, and only then is the checkpoint it pushes out of ``max_keep_ckpts`` deleted. mmengine deletes
      first and rewrites the pointer in place, so a kill or a full disk in between left a pointer to a
      deleted file, or an empty one.
    - ``iter_interval`` (epoch-based configs): also save ``iter_{N}.pth`` every N iterations, in the
      middle of epochs. These are resume points: only the newest is kept, and it is deleted once a newer
      checkpoint of any kind is written.
    - Preemption: at the end of each training step, and after each validation, the hook asks the
      runner's :class:`~visionkit.engine.preemption.PreemptionSignals` whether any process received
      SIGTERM / SIGUSR1 (all processes agree); if so it writes a checkpoint (``iter_{N}.pth``; in
      iteration-based configs the regular one) and raises
      :class:`~visionkit.engine.preemption.TrainingPreempted`.
    - Resume: mmengine takes from the checkpoint's ``message_hub`` which files to delete: the path in
      ``best_ckpt`` (removed, or ``rmtree``-d, when a better score comes), the steps in ``keep_ckpt_ids``
      (their ``epoch_N.pth`` removed) and, here, the mid-epoch resume point ``resume_ckpt``. A checkpoint
      is a file from anywhere, so ``best_ckpt*`` is kept only when it names a best checkpoint of this hook's
      form in this run's own folder, ``resume_ckpt`` only when it names an ``iter_N.pth`` there,
      ``best_score*`` only when it is a number, and ``keep_ckpt_ids`` only when it is ascending steps no later
      than the one resumed; anything else is dropped with a warning and the file it named is left alone.

    Args:
        iter_interval: mid-epoch checkpoint interval in iterations (``by_epoch=True`` only); None: none.
        **kwargs: mmengine's ``CheckpointHook`` arguments.
    """

    def __init__(self, *args: Any, iter_interval: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if iter_interval is not None and (not self.by_epoch or iter_interval < 1):
            raise ValueError(
                "CheckpointHook iter_interval is for epoch-based checkpoints (by_epoch=True) and must be "
                f"a positive number of iterations, got {iter_interval} with by_epoch={self.by_epoch}; "
                "iteration-based configs set interval instead"
            )
        self.iter_interval = iter_interval

    def before_train(self, runner: Any) -> None:
        info = runner.message_hub.runtime_info
        last = runner.epoch if self.by_epoch else runner.iter
        if "keep_ckpt_ids" in info and not _is_step_list(info["keep_ckpt_ids"], last):
            self._drop(runner, "keep_ckpt_ids", f"is not ascending steps up to {last}")
        for key in [k for k in info if isinstance(k, str) and k.startswith("best_score")]:
            score = info[key]
            if type(score) not in (int, float) or math.isnan(score):
                self._drop(runner, key, "is not a number")
        super().before_train(runner)  # sets out_dir
        resume_point = info.get(RESUME_CKPT_KEY)
        if resume_point is not None and not self._own_checkpoint(resume_point, r"iter_\d+\.pth"):
            self._drop(runner, RESUME_CKPT_KEY, "is not a mid-epoch checkpoint of this run")
        if self.save_best is None:
            return
        if len(self.key_indicators) == 1:
            if self.best_ckpt_path is not None and not self._own_best(self.best_ckpt_path):
                self._drop(runner, "best_ckpt", "is not a best checkpoint of this run")
                self.best_ckpt_path = None
        else:
            for key, path in list(self.best_ckpt_path_dict.items()):
                if path is not None and not self._own_best(path):
                    self._drop(runner, f"best_ckpt_{key}", "is not a best checkpoint of this run")
                    self.best_ckpt_path_dict[key] = None

    def _own_best(self, path: Any) -> bool:
        """Whether ``path`` is ``<out_dir>/best_<key>_<checkpoint name>`` as this hook names its best
        checkpoints (see :meth:`_own_checkpoint`)."""
        name_pattern = re.escape(self.filename_tmpl).replace(r"\{\}", r"\d+")
        return self._own_checkpoint(path, rf"best_[^/\\]+_{name_pattern}")

    def _own_checkpoint(self, path: Any, name_pattern: str) -> bool:
        """Whether ``path`` is a file of this run's folder named as ``name_pattern`` (a regex), a regular
        file or nothing (never a link, a folder or a path elsewhere)."""
        if type(path) is not str or os.path.islink(path) or os.path.isdir(path):
            return False
        in_out_dir = os.path.normpath(os.path.dirname(path)) == os.path.normpath(self.out_dir)
        return in_out_dir and bool(re.fullmatch(name_pattern, os.path.basename(path)))

    def _drop(self, runner: Any, key: str, reason: str) -> None:
        value = runner.message_hub.pop_info(key)
        print_log(
            f"The resumed checkpoint's message_hub {key} ({shown(value, 120)}) {reason}: ignored; no file "
            "it names is deleted",
            logger="current",
            level=30,
        )

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        super().after_train_iter(runner, batch_idx, data_batch, outputs)
        signum = _agreed_signal(runner)
        due = self.iter_interval is not None and (runner.iter + 1) % self.iter_interval == 0
        if due or signum:
            if self.by_epoch:
                self._save_resume_checkpoint(runner)
            elif self.last_ckpt != self._path(self.filename_tmpl.format(runner.iter + 1)):  # not just saved
                self._save_checkpoint(runner)
        if signum:
            self._stop(runner, signum)

    def after_val_epoch(self, runner, metrics: dict) -> None:
        super().after_val_epoch(runner, metrics)
        signum = _agreed_signal(runner)
        if signum:  # the validation is complete; the next training step has not begun
            if self.by_epoch:
                self._save_resume_checkpoint(runner, step=runner.iter)
            else:
                meta = dict(epoch=runner.epoch, iter=runner.iter)
                self._save_checkpoint_with_step(runner, runner.iter, meta)
            self._stop(runner, signum)

    def _stop(self, runner, signum: int) -> None:
        barrier()  # every process leaves after the main one has written the checkpoint
        runner.logger.warning(f"Preempted: checkpoint {self.last_ckpt} written, stopping")
        raise TrainingPreempted(signum, self.last_ckpt)

    def _path(self, filename: str) -> str:
        return self.file_backend.join_path(self.out_dir, filename)

    def _save_resume_checkpoint(self, runner, step: int | None = None) -> None:
        """Save ``iter_{step}.pth`` (default: after this iteration) as the resume point, replacing the
        previous one."""
        step = runner.iter + 1 if step is None else step
        self._save_and_point(runner, f"iter_{step}.pth", dict(epoch=runner.epoch, iter=step), evicted=None)

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        evicted = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                evicted = self._path(self.filename_tmpl.format(self.keep_ckpt_ids.popleft()))
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info("keep_ckpt_ids", list(self.keep_ckpt_ids))
        self._save_and_point(runner, self.filename_tmpl.format(step), meta, evicted)

    def _save_and_point(self, runner, filename: str, meta: dict, evicted: str | None) -> None:
        """Write ``filename``, point ``last_checkpoint`` at it, then delete ``evicted`` and the previous
        mid-epoch checkpoint (a failure before that leaves both, and the old pointer, in place)."""
        path = self._path(filename)
        superseded = runner.message_hub.get_info(RESUME_CKPT_KEY)
        is_resume_point = filename.startswith("iter_") and self.by_epoch
        runner.message_hub.update_info(RESUME_CKPT_KEY, path if is_resume_point else None)
        self.last_ckpt = path
        runner.message_hub.update_info("last_ckpt", path)
        runner.save_checkpoint(
            self.out_dir,
            filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args,
        )
        pointer = os.path.join(runner.work_dir, "last_checkpoint")
        on_main_process(lambda: write_text_atomically(pointer, path), pointer, pointer)
        for old in (evicted, superseded):
            if old and old != path and is_main_process() and self.file_backend.isfile(old):
                self.file_backend.remove(old)


def _agreed_signal(runner) -> int:
    """The preemption signal all processes agree on (0: none), if the runner catches signals."""
    preemption = getattr(runner, "preemption", None)
    return preemption.agreed() if preemption is not None and preemption.active else 0
