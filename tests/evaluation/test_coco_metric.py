"""CocoMetric through the real data path: toy COCO -> pipeline -> predictions -> COCOeval."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from visionkit.datasets import CocoDetection
from visionkit.datasets.toy_data import make_coco_detection_set
from visionkit.datasets.transforms import Albumentations, LoadImage, PackInputs
from visionkit.evaluation import CocoMetric

VAL = dict(ann_file="annotations/instances_val2017.json", data_prefix=dict(img="val2017/"), test_mode=True)


@pytest.fixture(scope="module")
def val_set(tmp_path_factory: pytest.TempPathFactory) -> CocoDetection:
    root = make_coco_detection_set(
        tmp_path_factory.mktemp("coco"), num_train=2, num_val=8, image_size=(64, 96)
    )
    pipeline = [LoadImage(), Albumentations([dict(type="Resize", height=40, width=40)]), PackInputs()]
    return CocoDetection(data_root=str(root["root"]), pipeline=pipeline, **VAL)


@pytest.fixture
def logged(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Messages CocoMetric logs, with their level."""
    messages: list[tuple[str, int]] = []
    monkeypatch.setattr(
        "visionkit.evaluation.coco_metric.print_log",
        lambda msg, logger=None, level=20: messages.append((msg, level)),
    )
    return messages


def predicted_samples(dataset: CocoDetection, shrink: float = 1.0, empty: bool = False) -> list[dict]:
    """The ground truth as predictions (score 1), mapped from network-input to original pixels, as the
    Evaluator hands them over (``to_dict()`` copies). ``shrink`` scales each box about its centre."""
    samples = []
    for index in range(len(dataset)):
        sample = dataset[index]["data_samples"]
        (ori_h, ori_w), (img_h, img_w) = sample.ori_shape, sample.img_shape
        boxes = sample.gt_bboxes * torch.tensor([ori_w / img_w, ori_h / img_h] * 2)
        centre, size = (boxes[:, :2] + boxes[:, 2:]) / 2, (boxes[:, 2:] - boxes[:, :2]) * shrink / 2
        keep = slice(0, 0) if empty else slice(None)
        sample.pred_bboxes = torch.cat([centre - size, centre + size], dim=1)[keep]
        sample.pred_scores = torch.ones(len(boxes))[keep]
        sample.pred_labels = sample.gt_labels[keep]
        samples.append(sample.to_dict())
    return samples


def evaluate(metric: CocoMetric, dataset: CocoDetection, samples: list[dict]) -> dict[str, float]:
    metric.dataset_meta = dataset.metainfo
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_perfect_prediction_gives_ap_one(val_set: CocoDetection, logged: list) -> None:
    metrics = evaluate(CocoMetric(), val_set, predicted_samples(val_set))
    for name in ("bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "AR@100"):
        assert metrics[f"coco/{name}"] == pytest.approx(1.0), name
    assert len(metrics) == 12
    assert all(-1 <= v <= 1 for v in metrics.values())
    summary = logged[0][0]
    assert "Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000" in summary
    assert len(summary.strip().splitlines()) == 12


def test_results_json_uses_category_ids(val_set: CocoDetection, tmp_path: Path, logged: list) -> None:
    prefix = tmp_path / "out" / "results"
    metric = CocoMetric(format_only=True, outfile_prefix=str(prefix))
    assert evaluate(metric, val_set, predicted_samples(val_set)) == {}
    detections = json.loads(Path(f"{prefix}.bbox.json").read_text())
    ground_truth = json.loads(Path(val_set.ann_file).read_text())
    expected = sorted(
        (a["image_id"], a["category_id"], *np.round(a["bbox"], 2))
        for a in ground_truth["annotations"]
        if not a["iscrowd"]
    )
    written = sorted((d["image_id"], d["category_id"], *np.round(d["bbox"], 2)) for d in detections)
    assert written == expected
    assert {d["category_id"] for d in detections} <= {1, 3, 7, 12}
    assert all(set(d) == {"image_id", "category_id", "bbox", "score"} for d in detections)


def test_no_detections_give_zero_and_warning(val_set: CocoDetection, logged: list) -> None:
    metrics = evaluate(CocoMetric(), val_set, predicted_samples(val_set, empty=True))
    assert metrics["coco/bbox_mAP"] == 0 and metrics["coco/AR@100"] == 0
    assert any(level == 30 and "no detections" in msg for msg, level in logged)


def test_classwise_table(val_set: CocoDetection, logged: list) -> None:
    evaluate(CocoMetric(classwise=True), val_set, predicted_samples(val_set))
    table = logged[-1][0]
    assert "AP50" in table and "AP75" in table
    for name in val_set.metainfo["classes"]:
        assert name in table


def test_ap50_only_mode(val_set: CocoDetection, logged: list) -> None:
    loose = predicted_samples(val_set, shrink=0.8)  # IoU 0.64 with the ground truth
    stock = evaluate(CocoMetric(), val_set, loose)
    assert stock["coco/bbox_mAP_50"] == pytest.approx(1.0)
    assert stock["coco/bbox_mAP_75"] == pytest.approx(0.0)
    ap50 = evaluate(CocoMetric(iou_thrs=(0.5,)), val_set, loose)
    assert ap50["coco/bbox_mAP"] == pytest.approx(1.0)
    assert ap50["coco/bbox_mAP_50"] == pytest.approx(1.0)
    assert "coco/bbox_mAP_75" not in ap50


def test_ground_truth_file_from_argument(val_set: CocoDetection, logged: list) -> None:
    metric = CocoMetric(ann_file=val_set.ann_file)
    metric.process({}, predicted_samples(val_set))
    assert metric.evaluate(len(val_set))["coco/bbox_mAP"] == pytest.approx(1.0)


def test_errors(val_set: CocoDetection, logged: list) -> None:
    with pytest.raises(ValueError, match="outfile_prefix"):
        CocoMetric(format_only=True)
    metric = CocoMetric()
    metric.dataset_meta = {"cat_ids": (1, 3, 7, 12)}
    metric.process({}, predicted_samples(val_set)[:1])
    with pytest.raises(ValueError, match="ann_file"):
        metric.evaluate(1)
    samples = predicted_samples(val_set)[:1]
    samples[0]["img_id"] = 10**9
    with pytest.raises(ValueError, match="not in the ground truth"):
        evaluate(CocoMetric(), val_set, samples)
