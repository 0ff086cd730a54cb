"""The training data set as the train loop sees it: each sample loaded under its own seed, bad samples
optionally replaced."""

from __future__ import annotations

import random
from typing import Any

from torch.utils.data import Dataset, get_worker_info

from ..registry import DATASETS
from .bad_samples import HINT, BadSampleError, mark_skipped
from .sample_seeds import seeded_sample


@DATASETS.register_module()
class SeededDataset(Dataset):
    """Wraps the outermost training data set (``RepeatDataset``, ``MultiTaskDataset``... included).

    An index that carries a seed (:class:`~visionkit.datasets.sample_seeds.SeededIndex`, from visionkit's
    samplers) loads its sample with Python's, numpy's and torch's generators seeded from it; a plain
    index loads as the data set alone would. In the main process (no data loader workers) the generators
    are put back afterwards, as they also drive training.

    A sample that raises :class:`~visionkit.datasets.bad_samples.BadSampleError` stops training with
    that error (naming the file) unless ``skip_bad_samples``: then another sample, drawn from the
    failed one's seed (so a resumed run draws the same), is loaded in its place and the failure recorded
    in its metainfo for the train loop to count (``train_cfg.max_bad_samples``).

    Every other attribute (``metainfo``, ``task_of``, ``full_init``...) is the wrapped data set's.

    Args:
        dataset: the data set, or its config (``train_dataloader.dataset``).
        skip_bad_samples: replace bad samples instead of raising.
        max_attempts: replacements tried for one index before giving up.
    """

    def __init__(self, dataset: Any, skip_bad_samples: bool = False, max_attempts: int = 10) -> None:
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.skip_bad_samples = skip_bad_samples
        self.max_attempts = max_attempts

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:
        if name == "dataset":  # not set yet (unpickling in a spawned worker): no recursion
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, index: int) -> Any:
        seed = getattr(index, "seed", None)
        if seed is None:
            return self._load(int(index), random.Random(int(index)))
        with seeded_sample(seed, restore=get_worker_info() is None):
            return self._load(int(index), random.Random(seed))

    def _load(self, index: int, rng: random.Random) -> Any:
        skipped: list[str] = []
        for _ in range(self.max_attempts):
            try:
                item = self.dataset[index]
            except BadSampleError as error:
                if not self.skip_bad_samples:
                    raise BadSampleError(f"{error}. Training stops at a bad sample: {HINT}") from error
                skipped.append(str(error))
                index = rng.randrange(len(self.dataset))
                continue
            if skipped:
                mark_skipped(item, skipped)
            return item
        raise BadSampleError(
            f"{self.max_attempts} samples in a row could not be loaded, the last: {skipped[-1]}"
        )
