"""TaskMetric: routes one task's samples to its metric, with that task's metainfo, and prefixes keys."""

import pytest
import torch

from visionkit.evaluation import Accuracy, TaskMetric

META = {
    "tasks": {
        "segmentation": {"classes": ("background", "shape")},
        "classification": {"classes": ("a", "b")},
    },
    "task_sizes": {"segmentation": 2, "classification": 2},
}


def seg_sample(pred, gt) -> dict:
    return {"task": "segmentation", "pred_seg_map": torch.tensor(pred), "gt_seg_map": torch.tensor(gt)}


def cls_sample(score, label) -> dict:
    return {"task": "classification", "pred_score": torch.tensor(score), "gt_label": label}


def test_only_its_tasks_samples_reach_the_inner_metric():
    metric = TaskMetric(task="segmentation", metric=dict(type="IoUMetric"))
    metric.dataset_meta = META
    assert metric.metric.dataset_meta == META["tasks"]["segmentation"]
    # classification samples have no seg maps: IoUMetric would fail on them if they reached it
    metric.process({}, [seg_sample([[0, 1]], [[0, 1]]), cls_sample([0.9, 0.1], 0)])
    metric.process({}, [cls_sample([0.2, 0.8], 1), seg_sample([[1, 1]], [[0, 1]])])
    results = metric.evaluate(size=4)
    # pixels: background 1 right + 1 predicted shape; shape 2 right -> IoU 1/2 and 2/3
    assert results["segmentation/mIoU"] == pytest.approx((50.0 + 200.0 / 3) / 2, abs=0.01)  # rounded to 0.01
    assert set(results) == {"segmentation/mIoU", "segmentation/mAcc", "segmentation/aAcc"}


def test_default_prefix_dropped_explicit_prefix_kept():
    plain = TaskMetric(task="classification", metric=dict(type="Accuracy", topk=(1,)))
    named = TaskMetric(task="classification", metric=dict(type="Accuracy", topk=(1,), prefix="acc"))
    for metric in (plain, named):
        metric.dataset_meta = META
        metric.process({}, [cls_sample([0.9, 0.1], 0), cls_sample([0.9, 0.1], 1), seg_sample([[0]], [[0]])])
    assert plain.evaluate(size=3) == {"classification/top1": 50.0}
    assert named.evaluate(size=3) == {"classification/acc/top1": 50.0}


def test_a_built_metric_is_used_as_is():
    inner = Accuracy(topk=(1,))
    metric = TaskMetric(task="classification", metric=inner)
    assert metric.metric is inner


def test_a_data_set_without_the_task_is_refused():
    metric = TaskMetric(task="detection", metric=dict(type="CocoMetric"))
    with pytest.raises(ValueError, match="'detection' data set"):
        metric.dataset_meta = META
    with pytest.raises(ValueError, match="MultiTaskDataset"):
        metric.dataset_meta = {"classes": ("a",)}
