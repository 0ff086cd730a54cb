import pytest
import torch

from visionkit.evaluation import Accuracy, topk_accuracy


def test_topk_accuracy_by_hand():
    scores = torch.tensor(
        [
            [0.1, 0.7, 0.2],  # label 1: top-1 hit
            [0.5, 0.3, 0.2],  # label 1: second -> top-2 hit
            [0.6, 0.3, 0.1],
        ]
    )  # label 2: last -> miss until k=3
    labels = torch.tensor([1, 1, 2])
    result = topk_accuracy(scores, labels, topk=(1, 2, 3))
    assert result == pytest.approx({1: 100 / 3, 2: 200 / 3, 3: 100.0})


def test_metric_collects_then_computes_and_skips_large_k():
    metric = Accuracy(topk=(1, 5))
    batch = [
        {"pred_score": torch.tensor([0.9, 0.1]), "gt_label": 0},
        {"pred_score": torch.tensor([0.8, 0.2]), "gt_label": 1},
    ]
    metric.process({}, batch)
    assert metric.compute_metrics(metric.results) == {"top1": 50.0}
