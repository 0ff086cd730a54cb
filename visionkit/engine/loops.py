"""mmengine's training loops, made to resume exactly where a checkpoint was written.

mmengine 0.10's ``EpochBasedTrainLoop`` restarts the epoch of a mid-epoch checkpoint, its
``IterBasedTrainLoop`` loads and drops every batch already trained on, neither restores random
generators, and a validation cut short by a kill is never run. These loops (registered under mmengine's
names in visionkit's scope; ``train_cfg = dict(by_epoch=...)`` builds them too) keep in each checkpoint
(``meta['resume_state']``, see :meth:`_TrainLoopState.state_dict`):

- the data position: the batch of the epoch to continue with (samplers start there, nothing is loaded);
- whether a validation was due when the checkpoint was written and has not finished: it runs first;
- every process's random generators (:mod:`.random_states`), restored just before the next training step.

Each sample is loaded under its own seed (:class:`~visionkit.datasets.seeded_dataset.SeededDataset`),
so data loader workers hold no state to save. ``max_bad_samples`` (0) lets training skip that many
unreadable samples, each logged (:mod:`visionkit.datasets.bad_samples`).
"""

from __future__ import annotations

import bisect
import logging
from typing import Any

from mmengine.logging import print_log
from mmengine.runner import BaseLoop
from mmengine.runner import EpochBasedTrainLoop as MMEngineEpochBasedTrainLoop
from mmengine.runner import IterBasedTrainLoop as MMEngineIterBasedTrainLoop
from mmengine.runner.utils import calc_dynamic_intervals

from ..datasets.bad_samples import BadSampleCounter
from ..registry import LOOPS
from .batch_stream import BatchStream, set_sampler_seed
from .random_states import check_random_states, restore_rank_random_states


def training_loader_cfg(dataloader: Any, max_bad_samples: int) -> Any:
    """``train_dataloader`` with its data set wrapped in :class:`SeededDataset` (a built loader as is)."""
    if not isinstance(dataloader, dict):
        return dataloader
    dataset = dict(type="SeededDataset", dataset=dataloader["dataset"], skip_bad_samples=max_bad_samples > 0)
    return {**dataloader, "dataset": dataset}


class _TrainLoopState:
    """What both training loops add to mmengine's: a :class:`BatchStream`, the pending validation, the
    random states to restore, and bad-sample counting. Mixed into a loop built on ``self.dataloader``."""

    def _init_state(self, max_bad_samples: int) -> None:
        self.stream = BatchStream(self.dataloader)
        self.val_pending = False
        self._bad_samples = BadSampleCounter(max_bad_samples)
        self._random_states: list | None = None

    def state_dict(self) -> dict[str, Any]:
        """The loop's part of a checkpoint: data position and whether a validation is still to run."""
        return {"data": self.stream.state_dict(), "val_pending": self.val_pending}

    def load_state_dict(self, state: dict[str, Any] | None, random_states: list | None) -> None:
        """Continue from a checkpoint's ``resume_state``; ``None`` (a checkpoint of an older visionkit or of
        mmengine): from the start of its epoch, with the generators as seeded."""
        set_sampler_seed(self.dataloader, self.runner.seed)
        if state is None:
            print_log(
                "The checkpoint has no resume state (data position, random generators): training resumes "
                "at the start of its epoch, not bit-identically to an uninterrupted run",
                logger="current",
                level=logging.WARNING,
            )
            return
        self.stream.load_state_dict(state["data"])
        self.val_pending = bool(state["val_pending"])
        if random_states is not None:  # restored at the first step: a malformed one must fail now
            check_random_states(random_states)
        self._random_states = random_states

    def _validate(self) -> None:
        self.val_pending = False  # cleared first: checkpoints written during it (best, preemption) follow it
        self.runner.val_loop.run()

    def _run_iter(self, batch_idx: int, data_batch: Any) -> None:
        """mmengine's ``run_iter``, after restoring pending random states and counting bad samples."""
        if self._random_states is not None:
            restore_rank_random_states(self._random_states)
            self._random_states = None
        self._bad_samples.update(self.runner, data_batch)
        self.runner.call_hook("before_train_iter", batch_idx=batch_idx, data_batch=data_batch)
        outputs = self.runner.model.train_step(data_batch, optim_wrapper=self.runner.optim_wrapper)
        self.runner.call_hook("after_train_iter", batch_idx=batch_idx, data_batch=data_batch, outputs=outputs)
        self._iter += 1

    def _val_due(self, step: int, last: int) -> bool:
        """Whether mmengine's loop validates once ``step`` of ``last`` epochs / iterations are done."""
        interval = self.dynamic_intervals[bisect.bisect(self.dynamic_milestones, step + 1) - 1]
        return (
            self.runner.val_loop is not None
            and step >= self.val_begin
            and (step % interval == 0 or step == last)
        )


@LOOPS.register_module()
class EpochBasedTrainLoop(_TrainLoopState, MMEngineEpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` (same arguments, same order of hooks) that resumes at the next
    batch of a mid-epoch checkpoint; see the module. ``max_bad_samples``: see
    :class:`~visionkit.datasets.bad_samples.BadSampleCounter`."""

    def __init__(self, runner, dataloader, max_epochs: int, *args: Any, max_bad_samples: int = 0, **kwargs):
        super().__init__(
            runner, training_loader_cfg(dataloader, max_bad_samples), max_epochs, *args, **kwargs
        )
        self._init_state(max_bad_samples)

    def run(self) -> Any:
        self.runner.call_hook("before_train")
        if self.val_pending:
            self._validate()
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._decide_current_val_interval()
            if self.val_pending:
                self._validate()
        self.runner.call_hook("after_train")
        return self.runner.model

    def run_epoch(self) -> None:
        if self.stream.epoch != self._epoch:  # a new epoch, or a checkpoint written at an epoch's end
            self.stream.epoch, self.stream.batch = self._epoch, 0
        self.runner.call_hook("before_train_epoch")
        self.runner.model.train()
        for data_batch in self.stream.epoch_batches():
            self.run_iter(self.stream.batch - 1, data_batch)
        self.val_pending = self._val_due(self._epoch + 1, self._max_epochs)
        self.runner.call_hook("after_train_epoch")
        self._epoch += 1

    def run_iter(self, idx: int, data_batch: Any) -> None:
        self._run_iter(idx, data_batch)


@LOOPS.register_module()
class IterBasedTrainLoop(_TrainLoopState, MMEngineIterBasedTrainLoop):
    """mmengine's ``IterBasedTrainLoop`` (same arguments) that resumes at the next batch without loading
    the ones before; see the module. Its data loader starts only when training does, after a resume."""

    def __init__(
        self,
        runner,
        dataloader,
        max_iters: int,
        val_begin: int = 1,
        val_interval: int = 1000,
        dynamic_intervals: list[tuple[int, int]] | None = None,
        max_bad_samples: int = 0,
    ) -> None:
        # mmengine's __init__ starts iterating the loader at once; the rest of it is here.
        BaseLoop.__init__(self, runner, training_loader_cfg(dataloader, max_bad_samples))
        self._max_iters = int(max_iters)
        self._max_epochs = 1
        self._epoch = 0
        self._iter = 0
        self.val_begin = val_begin
        self.val_interval = val_interval
        self.stop_training = False
        if hasattr(self.dataloader.dataset, "metainfo"):
            self.runner.visualizer.dataset_meta = self.dataloader.dataset.metainfo
        self.dynamic_milestones, self.dynamic_intervals = calc_dynamic_intervals(
            self.val_interval, dynamic_intervals
        )
        self._init_state(max_bad_samples)

    def run(self) -> Any:
        self.runner.call_hook("before_train")
        self.runner.call_hook("before_train_epoch")  # the whole run is one epoch, as in mmengine
        if self.val_pending:
            self._validate()
        batches = self.stream.forever()
        while self._iter < self._max_iters and not self.stop_training:
            self.runner.model.train()
            self.run_iter(next(batches))
            self._decide_current_val_interval()
            if self.val_pending:
                self._validate()
        self.runner.call_hook("after_train_epoch")
        self.runner.call_hook("after_train")
        return self.runner.model

    def run_iter(self, data_batch: Any) -> None:
        self.val_pending = self._val_due(self._iter + 1, self._max_iters)
        self._run_iter(self._iter, data_batch)
