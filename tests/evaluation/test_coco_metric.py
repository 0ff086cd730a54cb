"""CocoMetric through the real data path: toy COCO -> pipeline -> predictions -> COCOeval."""

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from visionkit.datasets import CocoDetection
from visionkit.datasets.toy_data import make_coco_detection_set
from visionkit.datasets.transforms import Albumentations, LoadImage, PackInputs
from visionkit.evaluation import CocoMetric
from visionkit.evaluation.coco_metric import STAT_NAMES

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
    expected = pycocotools_stats(val_set.ann_file, ground_truth_results(val_set.ann_file))
    assert [metrics[f"coco/{name}"] for name in STAT_NAMES] == pytest.approx(expected)
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
    """Class 0 predicted exactly; class 2 at IoU 0.77, the others at IoU 0.52. Of the 10 thresholds
    0.50:0.05:0.95, IoU 0.77 passes 6 (AP 0.6, AP50 1, AP75 1) and IoU 0.52 passes 1 (AP 0.1, AP50 1,
    AP75 0). Rows in class order, columns AP / AP50 / AP75."""
    exact, loose, close = (predicted_samples(val_set, shrink=s) for s in (1.0, 0.52**0.5, 0.77**0.5))
    for sample, exact_sample, close_sample in zip(loose, exact, close, strict=True):
        for label, source in ((0, exact_sample), (2, close_sample)):
            chosen = sample["pred_labels"] == label
            sample["pred_bboxes"][chosen] = source["pred_bboxes"][chosen]
    evaluate(CocoMetric(classwise=True), val_set, loose)
    lines = logged[-1][0].strip().splitlines()
    assert lines[0].split() == ["class", "AP", "AP50", "AP75"]
    assert [line.split()[0] for line in lines[1:]] == list(val_set.metainfo["classes"])
    rows = [line.split()[1:] for line in lines[1:]]
    assert rows[0] == ["1.000", "1.000", "1.000"] and rows[2] == ["0.600", "1.000", "1.000"]
    assert rows[1] == rows[3] == ["0.100", "1.000", "0.000"]


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
    samples = predicted_samples(val_set)[:1]
    samples[0]["pred_labels"][0] = 4  # 4 categories: labels 0..3
    with pytest.raises(ValueError, match=r"Predicted labels must lie in 0\.\.3, got \d\.\.4"):
        evaluate(CocoMetric(), val_set, samples)


def ground_truth_results(ann_file: str) -> list[dict]:
    """The ground truth written as COCO results by hand (score 1), straight from the JSON."""
    annotations = json.loads(Path(ann_file).read_text())["annotations"]
    return [
        {"image_id": a["image_id"], "category_id": a["category_id"], "bbox": a["bbox"], "score": 1.0}
        for a in annotations
        if not a["iscrowd"]
    ]


def pycocotools_stats(ann_file: str, results: list[dict], img_ids: list[int] | None = None) -> list[float]:
    """COCOeval's 12 stats, computed by pycocotools alone (the reference)."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO(ann_file)
        coco_eval = COCOeval(coco_gt, coco_gt.loadRes(results), iouType="bbox")
        if img_ids is not None:
            coco_eval.params.imgIds = img_ids
        coco_eval.evaluate()
        coco_eval.accumulate()
        coco_eval.summarize()
    return list(coco_eval.stats)


def test_detections_are_ranked_by_score_as_pycocotools_does(val_set: CocoDetection, logged: list) -> None:
    """Scores that differ, with a confident false positive per image: the AP depends on the ranking
    (a metric that wrote -score or a constant score gives another number)."""
    samples = predicted_samples(val_set)
    results = []
    for index, sample in enumerate(samples):
        count = len(sample["pred_scores"])
        sample["pred_scores"] = torch.linspace(0.8, 0.3, count) if count else sample["pred_scores"]
        false_positive = torch.tensor([[0.0, 0.0, 9.0, 7.0]])  # a corner box no ground truth overlaps
        sample["pred_bboxes"] = torch.cat([false_positive, sample["pred_bboxes"]])
        sample["pred_scores"] = torch.cat([torch.tensor([0.9 - 0.05 * index]), sample["pred_scores"]])
        sample["pred_labels"] = torch.cat([torch.tensor([index % 4]), sample["pred_labels"]])
        cat_ids = val_set.metainfo["cat_ids"]
        for box, score, label in zip(
            sample["pred_bboxes"], sample["pred_scores"], sample["pred_labels"], strict=True
        ):
            x1, y1, x2, y2 = box.tolist()
            results.append(
                {
                    "image_id": sample["img_id"],
                    "category_id": cat_ids[int(label)],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    metrics = evaluate(CocoMetric(), val_set, samples)
    expected = pycocotools_stats(val_set.ann_file, results)
    assert 0.3 < expected[0] < 0.99  # the false positives cost AP: the ranking matters
    assert [metrics[f"coco/{name}"] for name in STAT_NAMES] == pytest.approx(expected)


def test_only_processed_images_are_evaluated(val_set: CocoDetection, logged: list) -> None:
    """Perfect predictions for half the images: AP 1 on those, not the misses of the images never seen."""
    samples = predicted_samples(val_set)[::2]
    assert sum(len(s["gt_labels"]) for s in predicted_samples(val_set)[1::2]) > 0
    metrics = evaluate(CocoMetric(), val_set, samples)
    assert metrics["coco/bbox_mAP"] == pytest.approx(1.0) and metrics["coco/AR@100"] == pytest.approx(1.0)


def test_label_cat_ids_maps_a_torchvision_label_space(val_set: CocoDetection, logged: list) -> None:
    """A torchvision COCO detector's label j is category j + 1 (gaps included): with label_cat_ids the
    ground truth given in that label space scores AP 1, and detections of categories the data set lacks
    (label 4 = category 5 here) are dropped rather than mapped to a wrong one."""
    cat_ids = val_set.metainfo["cat_ids"]
    samples = predicted_samples(val_set)
    for sample in samples:
        labels = torch.as_tensor([cat_ids[int(label)] - 1 for label in sample["pred_labels"]])
        sample["pred_labels"] = torch.cat([labels, torch.full((1,), 4)])
        sample["pred_bboxes"] = torch.cat([sample["pred_bboxes"], torch.tensor([[0.0, 0.0, 5.0, 5.0]])])
        sample["pred_scores"] = torch.cat([sample["pred_scores"], torch.ones(1)])
    metric = CocoMetric(label_cat_ids=list(range(1, 91)))
    assert evaluate(metric, val_set, samples)["coco/bbox_mAP"] == pytest.approx(1.0)
    # Read as the data set's contiguous labels instead, they are out of range.
    with pytest.raises(ValueError, match=r"Predicted labels must lie in 0\.\.3"):
        evaluate(CocoMetric(), val_set, samples)
