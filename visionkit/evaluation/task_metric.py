"""One task's metric inside a multi-task evaluation: route that task's samples, prefix the results."""

from __future__ import annotations

from collections.abc import Sequence

from mmengine.evaluator import BaseMetric

from ..registry import METRICS
from ..structures import TASK_KEY


@METRICS.register_module()
class TaskMetric(BaseMetric):
    """Runs ``metric`` on the samples whose metainfo ``task`` is ``task`` and ignores the rest.

    The inner metric gets that task's data set metainfo (from a
    :class:`~visionkit.datasets.MultiTaskDataset`'s ``metainfo['tasks'][task]``) and its results come
    back as ``'<task>/<name>'``: ``TaskMetric(task='detection', metric=dict(type='CocoMetric'))`` gives
    ``detection/bbox_mAP``, ... The inner metric's own default prefix (``coco/``, ``accuracy/``) is
    dropped; one set in its config (``prefix=...``) is kept: ``<task>/<prefix>/<name>``.

    Args:
        task: the task name, as in the data set's ``datasets`` and the model's ``tasks``.
        metric: the inner metric's config (or a built metric).
    """

    def __init__(
        self, task: str, metric: dict | BaseMetric, collect_device: str = "cpu", prefix: str | None = None
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix or task)
        if isinstance(metric, dict):
            own_prefix = metric.get("prefix")
            metric = METRICS.build(metric)
            metric.prefix = own_prefix
        self.task, self.metric = task, metric

    @property
    def dataset_meta(self) -> dict | None:
        return self._dataset_meta

    @dataset_meta.setter
    def dataset_meta(self, dataset_meta: dict) -> None:
        tasks = (dataset_meta or {}).get("tasks", {})
        if self.task not in tasks:
            raise ValueError(
                f"TaskMetric(task='{self.task}') needs a MultiTaskDataset with a '{self.task}' data set to "
                f"evaluate on; the evaluated data set's tasks are {sorted(tasks)}"
            )
        self._dataset_meta = dataset_meta
        self.metric.dataset_meta = tasks[self.task]

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        mine = [sample for sample in data_samples if sample.get(TASK_KEY) == self.task]
        if mine:
            self.metric.process(data_batch, mine)
            self.results.extend(self.metric.results)
            self.metric.results.clear()

    def compute_metrics(self, results: list) -> dict[str, float]:
        metrics = self.metric.compute_metrics(results)
        if self.metric.prefix:
            return {f"{self.metric.prefix}/{k}": v for k, v in metrics.items()}
        return metrics

    def evaluate(self, size: int) -> dict:
        """``size``: the whole evaluated set; the collection across ranks uses this task's share of it."""
        sizes = (self.dataset_meta or {}).get("task_sizes", {})
        return super().evaluate(sizes.get(self.task, size))
