"""The training batches of a data loader, epoch after epoch, with a position that a checkpoint keeps.

A position is ``(epoch, batch)``: the data loader's epoch (the sampler's ``set_epoch``) and how many of
its batches training took. Restoring it makes the samplers start at that batch
(:meth:`~visionkit.datasets.samplers.DefaultSampler.start_at` and its peers), so a resumed run neither
repeats the epoch nor loads the batches it already trained on.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from mmengine.dist import get_world_size
from mmengine.logging import print_log
from torch.utils.data import BatchSampler, DataLoader

from ..datasets.bad_samples import BadSampleError, worker_message


def batch_size_of(loader: DataLoader) -> int:
    """Images per batch on this process."""
    return int(getattr(loader.batch_sampler, "batch_size", None) or loader.batch_size or 1)


def start_at(loader: DataLoader, num_batches: int) -> int:
    """Make ``loader``'s next pass begin after ``num_batches`` batches without loading them.

    Returns how many batches the caller must still drop by loading them: 0 with visionkit's samplers,
    ``num_batches`` with a sampler that cannot start part-way (after a warning; slow, as mmengine does).
    """
    batch_sampler = loader.batch_sampler
    if hasattr(batch_sampler, "start_at"):
        batch_sampler.start_at(num_batches)
        return 0
    sampler = getattr(batch_sampler, "sampler", None)
    if isinstance(batch_sampler, BatchSampler) and hasattr(sampler, "start_at"):
        sampler.start_at(num_batches * batch_sampler.batch_size)
        return 0
    if num_batches:
        print_log(
            f"{type(sampler).__name__} cannot start part-way: loading and dropping the {num_batches} "
            "batches already trained on (use visionkit's DefaultSampler / InfiniteSampler to skip them)",
            logger="current",
            level=30,
        )
    return num_batches


def set_epoch(loader: DataLoader, epoch: int) -> None:
    """Tell the sampler (or the batch sampler's sampler) which epoch comes, as mmengine's hooks do."""
    for sampler in (loader.sampler, getattr(loader.batch_sampler, "sampler", None)):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
            return


def set_sampler_seed(loader: DataLoader, seed: int) -> None:
    """Give the sampler ``seed`` (a resumed run's checkpoint seed) if it takes one after construction."""
    for sampler in (loader.sampler, getattr(loader.batch_sampler, "sampler", None)):
        if hasattr(sampler, "set_seed") and getattr(sampler, "seed", seed) != seed:
            sampler.set_seed(seed)


class BatchStream:
    """Batches of ``loader`` from a position, counting the batches handed out in the current epoch.

    The position counts a batch as taken when it is handed out, so during that training step (and its
    checkpoint) ``batch`` already includes it.
    """

    def __init__(self, loader: DataLoader) -> None:
        self.loader = loader
        self.epoch = 0
        self.batch = 0

    def epoch_batches(self) -> Iterator[Any]:
        """The rest of the current epoch's batches; afterwards the position stays at its end."""
        to_drop = start_at(self.loader, self.batch)
        batches = _surfacing_bad_samples(iter(self.loader))
        for data_batch in itertools.islice(batches, to_drop, None):
            self.batch += 1
            yield data_batch

    def next_epoch(self) -> None:
        self.epoch += 1
        self.batch = 0

    def forever(self) -> Iterator[Any]:
        """Epoch after epoch (iteration-based training), each announced to the sampler."""
        while True:
            set_epoch(self.loader, self.epoch)
            yield from self.epoch_batches()
            self.next_epoch()

    def state_dict(self) -> dict[str, int]:
        return {
            "epoch": self.epoch,
            "batch": self.batch,
            "processes": get_world_size(),
            "batch_size": batch_size_of(self.loader),
        }

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue at ``state``'s position. Saved with another number of processes or batch size, the
        position is converted to the same number of images into the epoch (not bit-identical then)."""
        self.epoch, self.batch = int(state["epoch"]), int(state["batch"])
        before = int(state["processes"]) * int(state["batch_size"])
        now = get_world_size() * batch_size_of(self.loader)
        if before != now:
            images = self.batch * before
            self.batch = images // now
            print_log(
                f"The checkpoint was written with {state['processes']} processes x batch "
                f"{state['batch_size']}, this run has {get_world_size()} x {batch_size_of(self.loader)}: "
                f"the epoch continues after about the same {images} images, with different batches than "
                "an uninterrupted run",
                logger="current",
                level=30,
            )


def _surfacing_bad_samples(batches: Iterator[Any]) -> Iterator[Any]:
    """``batches``, with a bad sample's error raised again without the worker's traceback text."""
    while True:
        try:
            data_batch = next(batches)
        except StopIteration:
            return
        except BadSampleError as error:
            raise BadSampleError(worker_message(error)) from None
        yield data_batch
