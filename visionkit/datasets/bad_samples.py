"""Samples whose files cannot be used (missing, corrupt, not matching their annotation).

Loading raises :class:`BadSampleError`, naming the file. By default training stops there. With
``train_cfg.max_bad_samples = N`` (``tools/train.py --skip-bad-samples N``) the training data set
(:class:`~visionkit.datasets.seeded_dataset.SeededDataset`) loads another sample in its place and records
the skipped one in the replacement's metainfo (data loader workers have no other way to tell the main
process); :class:`BadSampleCounter` counts them there, logs each and stops past ``N``.
``tools/analysis/check_dataset.py`` finds them all before training.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from mmengine.dist import all_gather_object, all_reduce, get_world_size, is_distributed
from mmengine.logging import print_log

SKIPPED_KEY = "skipped_samples"
HINT = (
    "list every bad file with tools/analysis/check_dataset.py CONFIG and leave them out with the "
    "dataset's exclude=FILE it writes, or skip bad samples while training with --skip-bad-samples N "
    "(train_cfg.max_bad_samples=N)"
)


class BadSampleError(OSError, ValueError):
    """A sample's file is missing, unreadable or corrupt, or does not match its annotation.

    Both an ``OSError`` (a file that cannot be read) and a ``ValueError`` (a file that disagrees with
    its annotation), so callers that caught either before still do.
    """


def mark_skipped(item: Any, skipped: Sequence[str]) -> None:
    """Record in ``item``'s data sample the messages of the samples skipped in its place."""
    samples = item.get("data_samples") if isinstance(item, dict) else None
    if samples is not None and hasattr(samples, "set_metainfo"):
        samples.set_metainfo({SKIPPED_KEY: list(skipped)})


def skipped_in_batch(data_batch: Any) -> list[str]:
    """The skipped-sample messages recorded in a collated batch (``data_samples`` list)."""
    samples = data_batch.get("data_samples", []) if isinstance(data_batch, dict) else []
    return [message for sample in samples or [] for message in getattr(sample, SKIPPED_KEY, None) or []]


def worker_message(error: BaseException) -> str:
    """The message a data loader worker raised, without the worker's traceback torch prepends."""
    text = str(error)
    marker = f"{type(error).__name__}: "
    return text.rsplit(marker, 1)[-1].strip() if "Original Traceback" in text else text


class BadSampleCounter:
    """Counts the bad samples skipped in training (over all processes), logs each, and raises
    :class:`BadSampleError` once more than ``max_bad_samples`` were skipped.

    ``count`` is kept in the runner's message hub (``bad_samples_skipped``), so a resumed run goes on
    counting from its checkpoint.
    """

    INFO_KEY = "bad_samples_skipped"

    def __init__(self, max_bad_samples: int) -> None:
        if max_bad_samples < 0:
            raise ValueError(f"max_bad_samples must be >= 0, got {max_bad_samples}")
        self.max_bad_samples = max_bad_samples

    def update(self, runner: Any, data_batch: Any) -> None:
        """Count and log the skips recorded in ``data_batch`` (a collective when distributed)."""
        if self.max_bad_samples == 0:
            return
        skipped = skipped_in_batch(data_batch)
        if is_distributed():
            total = torch.tensor([len(skipped)], dtype=torch.int64)
            all_reduce(total)
            if total.item() == 0:
                return
            skipped = [m for rank_messages in all_gather_object(skipped) for m in rank_messages]
        if not skipped:
            return
        count = runner.message_hub.get_info(self.INFO_KEY, 0) + len(skipped)
        runner.message_hub.update_info(self.INFO_KEY, count)
        for message in skipped:
            print_log(
                f"Skipped a bad sample ({count} of at most {self.max_bad_samples}): {message}",
                logger="current",
                level=30,
            )
        if count > self.max_bad_samples:
            processes = f" on {get_world_size()} processes" if is_distributed() else ""
            raise BadSampleError(
                f"{count} bad samples skipped{processes}, more than train_cfg.max_bad_samples="
                f"{self.max_bad_samples} (last: {skipped[-1]}); {HINT}"
            )
