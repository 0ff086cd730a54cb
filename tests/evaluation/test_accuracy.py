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


def test_defaults_are_top1_and_top5_and_k_equal_to_the_classes_counts(monkeypatch):
    logged = []
    monkeypatch.setattr(
        "visionkit.evaluation.accuracy.print_log",
        lambda msg, logger=None, level=20: logged.append((msg, level)),
    )
    scores = torch.tensor([[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    labels = torch.tensor([0, 0])  # ranks 6 and 1
    assert topk_accuracy(scores, labels) == pytest.approx({1: 50.0, 5: 50.0})
    metric = Accuracy()
    metric.process(
        {}, [{"pred_score": s, "gt_label": int(label)} for s, label in zip(scores, labels, strict=True)]
    )
    assert metric.compute_metrics(metric.results) == pytest.approx({"top1": 50.0, "top5": 50.0})
    assert logged == []  # nothing skipped, nothing said
    five = Accuracy(topk=(1, 5))
    five.process({}, [{"pred_score": s[:5], "gt_label": 0} for s in scores])
    assert five.compute_metrics(five.results) == pytest.approx({"top1": 50.0, "top5": 100.0})  # k = 5 classes
    small = Accuracy(topk=(1, 5))
    small.process({}, [{"pred_score": s[:3], "gt_label": 0} for s in scores])
    small.compute_metrics(small.results)
    assert logged == [("top-[5] accuracy skipped: only 3 classes", 30)]
