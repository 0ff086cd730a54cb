"""One data set per task behind one index, each item tagged with its task (for ``MultiTaskModel``)."""

from __future__ import annotations

import bisect
from typing import Any

from torch.utils.data import Dataset

from ..registry import DATASETS
from ..structures import TASK_KEY


@DATASETS.register_module()
class MultiTaskDataset(Dataset):
    """The data sets of several tasks, concatenated in config order.

    Item ``i`` is the item of the task data set it falls in, its data sample's metainfo ``task`` set to
    that task's name. Each task keeps its own pipeline.

    ``metainfo``: ``tasks`` (task -> that data set's metainfo, which ``TaskMetric`` hands its metric)
    and ``task_sizes`` (task -> number of items).

    Args:
        datasets: task name -> data set config (or a built data set), e.g. ``dict(detection=dict(
            type='CocoDetection', ...), segmentation=dict(type='VOCSegmentation', ...))``.
    """

    def __init__(self, datasets: dict[str, dict | Dataset]) -> None:
        if not datasets:
            raise ValueError("MultiTaskDataset needs datasets=dict(<task>=dict(type=...), ...)")
        self.datasets = {
            name: DATASETS.build(cfg) if isinstance(cfg, dict) else cfg for name, cfg in datasets.items()
        }
        self.task_names = tuple(self.datasets)
        self._ends: list[int] = []
        total = 0
        for dataset in self.datasets.values():
            total += len(dataset)
            self._ends.append(total)

    @property
    def metainfo(self) -> dict[str, Any]:
        return {
            "tasks": {name: dict(getattr(d, "metainfo", {})) for name, d in self.datasets.items()},
            "task_sizes": {name: len(d) for name, d in self.datasets.items()},
        }

    def full_init(self) -> None:
        """Load every lazily initialised task data set (mmengine's Runner calls this)."""
        for dataset in self.datasets.values():
            if hasattr(dataset, "full_init"):
                dataset.full_init()

    def __len__(self) -> int:
        return self._ends[-1]

    def task_of(self, index: int) -> str:
        """The task whose data set holds item ``index`` (no loading)."""
        return self.task_names[self._locate(index)[0]]

    def _locate(self, index: int) -> tuple[int, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"MultiTaskDataset index {index} out of range 0..{len(self) - 1}")
        position = bisect.bisect_right(self._ends, index)
        start = self._ends[position - 1] if position else 0
        return position, index - start

    def __getitem__(self, index: int) -> dict:
        position, local = self._locate(index)
        name = self.task_names[position]
        item = self.datasets[name][local]
        item["data_samples"].set_metainfo({TASK_KEY: name})
        return item
