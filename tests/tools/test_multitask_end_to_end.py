"""Multi-task quick-start path on generated COCO- and VOC-layout data: train a few iterations, then test."""

import json
import pickle

import numpy as np
import pytest
import torch

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
    assert 0.0 <= metrics["detection/bbox_mAP"] <= 1.0
    # mIoU counted with numpy from the dumped predictions (our own file, just written); every image
    # carries every head's prediction, the task says which ground truth it has.
    with open(tmp_path / "predictions.pkl", "rb") as f:
        predictions = pickle.load(f)
    segmented = [p for p in predictions if p["task"] == "segmentation"]
    assert len(segmented) == 2
    expected = numpy_miou(segmented, len(TOY_VOC_CLASSES))
    assert metrics["segmentation/mIoU"] == pytest.approx(expected, abs=0.01)


def numpy_miou(samples: list[dict], num_classes: int) -> float:
    """Mean IoU (%) over the classes present in prediction or ground truth, label 255 ignored."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    for sample in samples:
        gt, pred = np.asarray(sample["gt_seg_map"]).ravel(), np.asarray(sample["pred_seg_map"]).ravel()
        keep = gt != 255
        np.add.at(matrix, (gt[keep], pred[keep]), 1)
    union = matrix.sum(0) + matrix.sum(1) - np.diag(matrix)
    return float(100 * (np.diag(matrix)[union > 0] / union[union > 0]).mean())
