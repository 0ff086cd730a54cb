"""IoU metric: confusion matrix and scores on cases small enough to check by hand."""

import math

import pytest
import torch

from visionkit.evaluation import IoUMetric, confusion_matrix, iou_from_confusion

# 2x3 maps, 3 classes, one ignored pixel (bottom right).
GT = torch.tensor([[0, 0, 1], [1, 2, 255]])
PRED = torch.tensor([[0, 1, 1], [2, 2, 0]])


def test_confusion_matrix_hand_checked_2x3() -> None:
    # rows = ground truth, columns = prediction; the ignored pixel (predicted 0) is not counted.
    expected = torch.tensor([[1, 1, 0], [0, 1, 1], [0, 0, 1]])
    matrix = confusion_matrix(PRED, GT, num_classes=3)
    assert matrix.dtype == torch.int64
    assert torch.equal(matrix, expected)


def test_scores_from_hand_checked_matrix() -> None:
    scores = iou_from_confusion(confusion_matrix(PRED, GT, num_classes=3))
    # IoU = TP / (gt + pred - TP):
    # class 0: 1 / (2 + 1 - 1), class 1: 1 / (2 + 2 - 1), class 2: 1 / (1 + 2 - 1)
    torch.testing.assert_close(scores["iou"], torch.tensor([1 / 2, 1 / 3, 1 / 2], dtype=torch.float64))
    assert float(scores["mIoU"]) == pytest.approx((1 / 2 + 1 / 3 + 1 / 2) / 3)
    assert float(scores["aAcc"]) == pytest.approx(3 / 5)
    assert float(scores["mAcc"]) == pytest.approx((1 / 2 + 1 / 2 + 1) / 3)


def test_perfect_prediction_gives_miou_one() -> None:
    gt = torch.randint(0, 4, (7, 9))
    gt[0, :] = 255
    pred = gt.clone()
    pred[gt == 255] = 3
    scores = iou_from_confusion(confusion_matrix(pred, gt, num_classes=4))
    assert float(scores["mIoU"]) == 1.0 and float(scores["aAcc"]) == 1.0


def test_ignored_pixels_never_count() -> None:
    gt = torch.full((4, 4), 255)
    gt[:2] = 1
    a = torch.ones(4, 4, dtype=torch.long)
    b = a.clone()
    b[2:] = torch.tensor([0, 2, 0, 2])  # anything under the ignore label
    assert torch.equal(confusion_matrix(a, gt, 3), confusion_matrix(b, gt, 3))
    assert int(confusion_matrix(b, gt, 3).sum()) == 8


def test_absent_class_is_nan_and_left_out_of_the_mean() -> None:
    gt = torch.tensor([[0, 1]])
    scores = iou_from_confusion(confusion_matrix(gt.clone(), gt, num_classes=3))
    assert math.isnan(float(scores["iou"][2])) and math.isnan(float(scores["acc"][2]))
    assert float(scores["mIoU"]) == 1.0


def test_out_of_range_label_is_an_error() -> None:
    with pytest.raises(ValueError, match=r"outside 0\.\.2"):
        confusion_matrix(torch.tensor([[5]]), torch.tensor([[0]]), num_classes=3)


def _sample(pred: torch.Tensor, gt: torch.Tensor) -> dict:
    return {"pred_seg_map": pred, "gt_seg_map": gt, "img_path": "x.jpg"}


def test_metric_accumulates_pixels_over_the_whole_set() -> None:
    metric = IoUMetric()
    metric.dataset_meta = {"classes": ("background", "thing")}
    big_gt = torch.zeros(10, 10, dtype=torch.long)  # 100 pixels, all right
    small_gt = torch.ones(1, 2, dtype=torch.long)  # 2 pixels of class 1, both predicted background
    metric.process({}, [_sample(big_gt.clone(), big_gt)])
    metric.process({}, [_sample(torch.zeros(1, 2, dtype=torch.long), small_gt)])
    results = metric.compute_metrics(metric.results)
    # class 0: 100 / 102; class 1: 0 / 2 -> mean 49.02 (a per-image mean would be 50.0)
    assert results["mIoU"] == pytest.approx(round(100 / 102 / 2 * 100, 2))
    assert results["aAcc"] == pytest.approx(round(100 / 102 * 100, 2))
    assert list(results) == ["mIoU", "aAcc", "mAcc"]


def test_metric_perfect_prediction_is_100_percent() -> None:
    metric = IoUMetric(num_classes=3)
    gt = torch.tensor([[0, 1, 2], [2, 1, 255]])
    metric.process({}, [_sample(gt.clamp(max=2), gt), _sample(gt.clamp(max=2), gt)])
    assert metric.compute_metrics(metric.results) == {"mIoU": 100.0, "aAcc": 100.0, "mAcc": 100.0}


def test_metric_shape_mismatch_names_the_image() -> None:
    metric = IoUMetric(num_classes=2)
    with pytest.raises(ValueError, match=r"x\.jpg.*original size"):
        metric.process({}, [_sample(torch.zeros(2, 2), torch.zeros(3, 3))])


def test_class_count_errors() -> None:
    metric = IoUMetric(num_classes=3)
    metric.dataset_meta = {"classes": ("background", "cat")}
    metric.process({}, [{"pred_seg_map": torch.zeros(2, 2), "gt_seg_map": torch.zeros(2, 2)}])
    with pytest.raises(ValueError, match=r"num_classes=3 but the dataset has 2 classes"):
        metric.compute_metrics(metric.results)
    with pytest.raises(
        ValueError, match=r"IoUMetric needs num_classes or a dataset whose metainfo has 'classes'"
    ):
        IoUMetric().process({}, [{"pred_seg_map": torch.zeros(2, 2), "gt_seg_map": torch.zeros(2, 2)}])
    named = IoUMetric(num_classes=2)
    named.process({}, [{"pred_seg_map": torch.tensor([[0, 1]]), "gt_seg_map": torch.tensor([[0, 1]])}])
    assert named.compute_metrics(named.results)["mIoU"] == 100.0
