"""mmengine's ``CheckpointHook`` whose ``last_checkpoint`` pointer is written atomically."""

from __future__ import annotations

import os

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook as MMEngineCheckpointHook

from ...registry import HOOKS
from ..checkpoint_io import write_text_atomically


@HOOKS.register_module()
class CheckpointHook(MMEngineCheckpointHook):
    """Saves like mmengine's 0.10 hook (through ``runner.save_checkpoint``, atomic in visionkit's Runner).

    mmengine rewrites ``work_dir/last_checkpoint`` in place after each save: a kill during that write
    leaves it empty and ``--resume`` starts over. Here it goes through a temporary file and a rename,
    after the checkpoint it names is complete. The rest is mmengine's ``_save_checkpoint_with_step``.
    """

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
