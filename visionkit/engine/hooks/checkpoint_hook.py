"""mmengine's ``CheckpointHook``: its pointer file written atomically, and no path taken from a checkpoint."""

from __future__ import annotations

import math
import os
import re
from typing import Any

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook
from mmengine.logging import print_log

from ...models.untrusted_text import shown
from ...registry import HOOKS
from ..checkpoint_io import write_text_atomically


def _is_step_list(ids: Any, last: int) -> bool:
    """Whether ``ids`` are checkpoint steps as the hook records them: ascending ints up to ``last``."""
    return (
        type(ids) is list and all(type(i) is int and 0 <= i <= last for i in ids) and ids == sorted(set(ids))
    )


@HOOKS.register_module()
class CheckpointHook(MMEngineCheckpointHook):
    """Saves like mmengine's 0.10 hook (through ``runner.save_checkpoint``, atomic in visionkit's Runner).

    mmengine rewrites ``work_dir/last_checkpoint`` in place after each save: a kill during that write
    leaves it empty and ``--resume`` starts over. Here it goes through a temporary file and a rename,
    after the checkpoint it names is complete. The rest is mmengine's ``_save_checkpoint_with_step``.

    On resume, mmengine takes from the checkpoint's ``message_hub`` which files to delete: the path in
    ``best_ckpt`` (removed, or ``rmtree``-d, when a better score comes) and the steps in ``keep_ckpt_ids``
    (their ``epoch_N.pth`` removed). A checkpoint is a file from anywhere, so here ``best_ckpt*`` is kept
    only when it names a best checkpoint of this hook's form in this run's own folder, ``best_score*``
    only when it is a number, and ``keep_ckpt_ids`` only when it is ascending steps no later than the
    one resumed; anything else is dropped with a warning and the file it named is left alone.
    """

    def before_train(self, runner: Any) -> None:
        info = runner.message_hub.runtime_info
        last = runner.epoch if self.by_epoch else runner.iter
        if "keep_ckpt_ids" in info and not _is_step_list(info["keep_ckpt_ids"], last):
            self._drop(runner, "keep_ckpt_ids", f"is not ascending steps up to {last}")
        for key in [k for k in info if isinstance(k, str) and k.startswith("best_score")]:
            score = info[key]
            if type(score) not in (int, float) or math.isnan(score):
                self._drop(runner, key, "is not a number")
        super().before_train(runner)
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
        checkpoints, a regular file or nothing (never a link, a folder or a path elsewhere)."""
        if type(path) is not str or os.path.islink(path) or os.path.isdir(path):
            return False
        name_pattern = re.escape(self.filename_tmpl).replace(r"\{\}", r"\d+")
        return os.path.normpath(os.path.dirname(path)) == os.path.normpath(self.out_dir) and bool(
            re.fullmatch(rf"best_[^/\\]+_{name_pattern}", os.path.basename(path))
        )

    def _drop(self, runner: Any, key: str, reason: str) -> None:
        value = runner.message_hub.pop_info(key)
        print_log(
            f"The resumed checkpoint's message_hub {key} ({shown(value, 120)}) {reason}: ignored; no file "
            "it names is deleted",
            logger="current",
            level=30,
        )

    def _save_checkpoint_with_step(self, runner, step, meta) -> None:
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                old = self.file_backend.join_path(
                    self.out_dir, self.filename_tmpl.format(self.keep_ckpt_ids.popleft())
                )
                if is_main_process() and self.file_backend.isfile(old):
                    self.file_backend.remove(old)
                elif is_main_process() and self.file_backend.isdir(old):  # deepspeed saves folders
                    self.file_backend.rmtree(old)
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info("keep_ckpt_ids", list(self.keep_ckpt_ids))
        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info("last_ckpt", self.last_ckpt)
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
        if is_main_process():
            write_text_atomically(os.path.join(runner.work_dir, "last_checkpoint"), self.last_ckpt)
