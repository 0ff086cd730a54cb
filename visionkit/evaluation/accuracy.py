"""Top-k classification accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from torch import Tensor

from ..registry import METRICS


def topk_accuracy(scores: Tensor, labels: Tensor, topk: Sequence[int] = (1, 5)) -> dict[int, float]:
    """Percentage of samples whose label is among the k highest scores, for each k.

    Args:
        scores: (N, K) class scores or logits.
        labels: (N,) int class indices.
    """
    if len(scores) == 0:
        raise ValueError("topk_accuracy needs at least one sample")
    ranks = scores.topk(max(topk), dim=1).indices
    hits = ranks == labels.view(-1, 1)
    return {k: float(hits[:, :k].any(dim=1).float().mean()) * 100 for k in topk}


@METRICS.register_module()
class Accuracy(BaseMetric):
    """Top-1 / top-5 accuracy (%) over the whole evaluation set.

    Reads ``pred_score`` and ``gt_label`` from each predicted data sample. A ``k`` larger than the
    number of classes is skipped with a warning (it would be trivially 100%).
    """

    default_prefix = "accuracy"

    def __init__(
        self, topk: Sequence[int] = (1, 5), collect_device: str = "cpu", prefix: str | None = None
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append((sample["pred_score"].cpu(), int(sample["gt_label"])))

    def compute_metrics(self, results: list) -> dict[str, float]:
        scores = torch.stack([r[0] for r in results])
        labels = torch.tensor([r[1] for r in results])
        topk = [k for k in self.topk if k <= scores.shape[1]]
        skipped = [k for k in self.topk if k > scores.shape[1]]
        if skipped:
            print_log(
                f"top-{skipped} accuracy skipped: only {scores.shape[1]} classes", logger="current", level=30
            )
        return {f"top{k}": v for k, v in topk_accuracy(scores, labels, topk).items()}
