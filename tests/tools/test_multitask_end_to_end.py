"""Multi-task quick-start path on generated COCO- and VOC-layout data: train a few iterations, then test."""

import json
import pickle

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from visionkit.datasets.toy_data import make_coco_detection_set, make_voc_segmentation_set
from visionkit.datasets.toy_data.voc import VOC_CLASSES as TOY_VOC_CLASSES

from .run_tool import run_tool

pytestmark = pytest.mark.slow
CONFIG = "configs/multitask_mnv2_toy.py"


def _data_options(coco_root, voc_root, loaders):
    options = []
    for loader in loaders:
        options += [
            f"{loader}.dataset.datasets.detection.data_root={coco_root}",
            f"{loader}.dataset.datasets.segmentation.data_root={voc_root}",
            f"{loader}.num_workers=0",
            f"{loader}.persistent_workers=False",
        ]
    return options


def test_multitask_trains_and_reports_every_tasks_metric(tmp_path):
    coco = make_coco_detection_set(tmp_path / "coco", num_train=4, num_val=2, image_size=(96, 128))
    voc = make_voc_segmentation_set(tmp_path / "voc", num_train=4, num_val=2, image_size=(96, 128))
    work_dir = tmp_path / "work"
    trained = run_tool(
        "train.py",
        CONFIG,
        "--work-dir",
        str(work_dir),
        "--cfg-options",
        *_data_options(coco["root"], voc["data_root"], ["train_dataloader", "val_dataloader"]),
        "train_cfg.max_epochs=1",
        "train_cfg.val_interval=1",
        "train_dataloader.batch_size=2",
        "default_hooks.logger.interval=1",
    )
    log = trained.stdout + trained.stderr
    # batches of 2: 2 detection, 2 segmentation; the config's 2:1 ratio needs 2 rounds of (det, det, seg)
    assert "Epoch(train) [1][6/6]" in log, log[-3000:]
    for key in ("detection.loss_cls", "detection.loss_bbox", "segmentation.decode.loss_ce"):
        assert key in log
    checkpoint = torch.load(work_dir / "epoch_1.pth", map_location="cpu", weights_only=False)
    keys = checkpoint["state_dict"].keys()
    assert any(k.startswith("tasks.detection.head.") for k in keys)
    assert any(k.startswith("tasks.segmentation.decode_head.") for k in keys)

    tested = run_tool(
        "test.py",
        CONFIG,
        str(work_dir / "epoch_1.pth"),
        "--work-dir",
        str(work_dir),
        "--cfg-options",
        *_data_options(coco["root"], voc["data_root"], ["test_dataloader"]),
        "--out",
        str(tmp_path / "predictions.pkl"),
    )
    assert "segmentation/mIoU" in tested.stdout
    metrics = json.loads((work_dir / "test_metrics.json").read_text())
    with open(tmp_path / "predictions.pkl", "rb") as f:
        predictions = pickle.load(f)
    # COCO's 12 stats from the dumped predictions by pycocotools alone (ours are rounded to 3 decimals).
    # After one epoch on 4 images they are all 0 here: this checks that the detection images and only
    # they are evaluated (an empty or foreign image set gives -1), not ranking; tests/evaluation does that.
    expected = pycocotools_stats([p for p in predictions if p["task"] == "detection"], coco["val_ann"])
    reported = [metrics[f"detection/{name}"] for name in COCO_STATS]
    assert reported == pytest.approx(expected, abs=1e-3)
    # mIoU counted with numpy from the dumped predictions (our own file, just written); every image
    # carries every head's prediction, the task says which ground truth it has.
    segmented = [p for p in predictions if p["task"] == "segmentation"]
    assert len(segmented) == 2
    expected = numpy_miou(segmented, len(TOY_VOC_CLASSES))
    assert metrics["segmentation/mIoU"] == pytest.approx(expected, abs=0.01)


COCO_STATS = (
    "bbox_mAP",
    "bbox_mAP_50",
    "bbox_mAP_75",
    "bbox_mAP_s",
    "bbox_mAP_m",
    "bbox_mAP_l",
    "AR@1",
    "AR@10",
    "AR@100",
    "AR_s@100",
    "AR_m@100",
    "AR_l@100",
)  # COCOeval.stats order


def pycocotools_stats(samples: list[dict], ann_file) -> list[float]:
    """COCOeval's 12 bbox stats of the dumped detections over their images, by pycocotools alone."""
    coco_gt = COCO(str(ann_file))
    cat_ids = sorted(coco_gt.getCatIds())
    results = []
    for sample in samples:
        for box, score, label in zip(
            np.asarray(sample["pred_bboxes"], dtype=float).reshape(-1, 4),
            np.asarray(sample["pred_scores"], dtype=float).reshape(-1),
            np.asarray(sample["pred_labels"]).reshape(-1),
            strict=True,
        ):
            x1, y1, x2, y2 = box.tolist()
            results.append(
                {
                    "image_id": int(sample["img_id"]),
                    "category_id": cat_ids[int(label)],
                    "bbox": [x1, y1, x2 - x1, y2 - y1],
                    "score": float(score),
                }
            )
    assert results, "the detector predicted nothing: nothing to compare"
    evaluator = COCOeval(coco_gt, coco_gt.loadRes(results), iouType="bbox")
    evaluator.params.imgIds = sorted({int(s["img_id"]) for s in samples})
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    return [float(v) for v in evaluator.stats]


def numpy_miou(samples: list[dict], num_classes: int) -> float:
    """Mean IoU (%) over the classes present in prediction or ground truth, label 255 ignored."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    for sample in samples:
        gt, pred = np.asarray(sample["gt_seg_map"]).ravel(), np.asarray(sample["pred_seg_map"]).ravel()
        keep = gt != 255
        np.add.at(matrix, (gt[keep], pred[keep]), 1)
    union = matrix.sum(0) + matrix.sum(1) - np.diag(matrix)
    return float(100 * (np.diag(matrix)[union > 0] / union[union > 0]).mean())
