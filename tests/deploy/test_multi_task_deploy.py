"""The multi-task model (detection + segmentation) through every deploy path, as a user runs it:
tools/export.py (float and --int8), then tools/test.py, tools/analysis/agreement.py and tools/infer.py
on the graphs, against the PyTorch checkpoint on generated COCO- and VOC-layout data."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from visionkit.datasets.toy_data import make_coco_detection_set, make_voc_segmentation_set
from visionkit.deploy.quantize import layer_precisions
from visionkit.engine import load_config

from ..lively_models import lively_model
from ..tools.run_tool import REPO, load_tool

pytestmark = pytest.mark.slow
CONFIG = str(REPO / "configs/multitask_mnv2_toy.py")
WIDTH = {"model.backbone.widen_factor": 0.35, "model.tasks.detection.neck.widen_factor": 0.35}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(--cfg-options, .pth, .onnx, .int8.onnx, the val images) of an input-dependent multi-task model."""
    root = tmp_path_factory.mktemp("multi_task_deploy")
    coco = make_coco_detection_set(root / "coco", num_train=4, num_val=3, image_size=(96, 128))
    voc = make_voc_segmentation_set(root / "voc", num_train=4, num_val=3, image_size=(96, 128))
    options = dict(WIDTH)
    for loader in ("train_dataloader", "val_dataloader", "test_dataloader"):
        options[f"{loader}.dataset.datasets.detection.data_root"] = str(coco["root"])
        options[f"{loader}.dataset.datasets.segmentation.data_root"] = str(voc["data_root"])
        options[f"{loader}.num_workers"] = 0
        options[f"{loader}.persistent_workers"] = False
    checkpoint = root / "model.pth"
    torch.save({"state_dict": lively_model(load_config(CONFIG, options)).state_dict()}, checkpoint)
    cli = ["--cfg-options", *(f"{k}={v}" for k, v in options.items())]
    load_tool("export").main(
        [CONFIG, str(checkpoint), "--int8", "--calib-images", "4", "--keep-float", "none", *cli]
    )
    images = sorted((root / "coco/val2017").glob("*.jpg")) + sorted(root.glob("voc/**/JPEGImages/*.jpg"))[-3:]
    return cli, checkpoint, root / "model.onnx", root / "model.int8.onnx", images


def agreement_per_task(cli: list[str], reference: Path, other: Path) -> dict[str, float]:
    """tools/analysis/agreement.py between two files of the multi-task model (detections above 0.05)."""
    return load_tool("analysis/agreement").main(
        [CONFIG, str(reference), str(other), "--score-thr", "0.05", *cli]
    )


def assert_predicts_what_the_checkpoint_does(cli: list[str], checkpoint: Path, exported_file: Path) -> None:
    """Every box matched at IoU 0.9 with the same label both ways, > 99.9% of mask pixels equal."""
    agreement = agreement_per_task(cli, checkpoint, exported_file)
    assert agreement["segmentation/pixels"] > 0 and agreement["segmentation/pixel_agreement"] > 0.999
    assert agreement["detection/boxes_reference"] > 0, "no detections to compare: the model is dead"
    assert agreement["detection/boxes_matched_of_reference"] == 1.0
    assert agreement["detection/boxes_matched_of_other"] == 1.0


def test_float_graph_predicts_what_pytorch_does(exported, tmp_path):
    cli, checkpoint, float_path, _, images = exported
    assert_predicts_what_the_checkpoint_does(cli, checkpoint, float_path)
    # Same predictions, so the same metrics (shown by the agreement above); tools/test.py runs the graph.
    metrics = load_tool("test").main([CONFIG, str(float_path), "--work-dir", str(tmp_path), *cli])
    assert {"detection/bbox_mAP", "segmentation/mIoU"} <= set(metrics)
    records = load_tool("infer").main(
        [CONFIG, str(float_path), *map(str, images), "--out-dir", str(tmp_path / "o"), *cli]
    )
    assert len(records) == 6 and all("detections" in r and "segmentation" in r for r in records), records[0]


def test_int8_graph_runs_every_task_and_reports_agreement_per_task(exported, tmp_path):
    cli, _, float_path, int8_path, _ = exported
    graph = onnx.load(str(int8_path))
    precisions = layer_precisions(graph)
    assert set(precisions.values()) == {"int8"}  # --keep-float none
    for part in (
        "backbone.",
        "tasks.detection.head.",
        "tasks.detection.neck.",
        "tasks.segmentation.decode_head.",
    ):
        assert any(layer.startswith(part) for layer in precisions), part
    meta = json.loads({p.key: p.value for p in graph.metadata_props}["visionkit"])
    assert meta["outputs"][0].startswith("detection.") and meta["quantization"]["calibration"]["images"] == 4
    metrics = load_tool("test").main([CONFIG, str(int8_path), "--work-dir", str(tmp_path), *cli])
    assert {"detection/bbox_mAP", "segmentation/mIoU"} <= set(metrics)
    agreement = agreement_per_task(cli, float_path, int8_path)
    # Each task on its own 3 val images: 3 segmentation images of 96-128 px, and detections.
    assert 3 * 96 * 96 <= agreement["segmentation/pixels"] <= 3 * 128 * 128
    assert 0 < agreement["segmentation/pixel_agreement"] < 1  # INT8 is not the float graph
    assert agreement["detection/boxes_reference"] > 0 and "detection/boxes_matched_of_other" in agreement
    assert not any(key.startswith(("top1", "pixels", "boxes")) for key in agreement)  # all per task


def test_executorch_programs_run_every_task(exported, tmp_path):
    """tools/export.py --format executorch --int8: one program with both heads; the float one predicts
    what the checkpoint does, the INT8 one is scored by tools/test.py and compared per task."""
    pytest.importorskip("executorch")
    cli, checkpoint, _, _, _ = exported
    float_pte, int8_pte = tmp_path / "model.pte", tmp_path / "model.int8.pte"
    export = ["--format", "executorch", "--int8", "--calib-images", "4", "--out", str(float_pte)]
    diffs = load_tool("export").main([CONFIG, str(checkpoint), *export, *cli])
    assert diffs["model.pte:segmentation.logits"] < 1e-3 and diffs["model.pte:detection.scores"] < 1e-4
    assert diffs["model.int8.pte:segmentation.logits"] > 1e-3  # quantized, not the float program again
    assert int8_pte.stat().st_size < float_pte.stat().st_size / 2
    assert_predicts_what_the_checkpoint_does(cli, checkpoint, float_pte)
    metrics = load_tool("test").main([CONFIG, str(int8_pte), "--work-dir", str(tmp_path), *cli])
    assert {"detection/bbox_mAP", "segmentation/mIoU"} <= set(metrics)
    agreement = agreement_per_task(cli, float_pte, int8_pte)
    # Measured 0.9994. The random-weight detector's boxes are near-tied low scores, so which of them pass
    # differs in INT8 (12 of 300 matched): only reported, as for the INT8 ONNX graph above.
    assert agreement["segmentation/pixel_agreement"] > 0.99
    assert agreement["detection/boxes_reference"] > 0 and "detection/boxes_matched_of_other" in agreement
