"""configs/ssdlite_mnv2_mmdet_coco.py exports to ONNX with mmdetection's inference in the graph (nms_pre
per level, boxes clipped to the image, empty boxes dropped); ONNX Runtime gives the PyTorch detections."""

import json

import pytest
import torch

from tests.models.mmdet_ssdlite_reference import photo, seeded_mmdet_state_dict
from tests.models.test_mmdet_ssdlite import CONFIG, FIXTURE
from visionkit.apis import inference_model, init_model
from visionkit.deploy.onnx_export import export_onnx

from .onnx_toy_models import assert_same_detections


@pytest.mark.slow
def test_onnx_runtime_gives_the_mmdet_models_detections(tmp_path):
    reference = json.loads(FIXTURE.read_text())
    checkpoint = tmp_path / "mmdet.pth"
    torch.save(seeded_mmdet_state_dict([(k, s) for k, s in reference["key_shapes"]]), checkpoint)
    # nms_pre 100 makes the per-level top-k decide which boxes survive (see test_mmdet_ssdlite.py).
    options = {"model.head.test_cfg.nms_pre": 100}
    model = init_model(CONFIG, str(checkpoint), cfg_options=options)
    path = tmp_path / "ssdlite_mmdet.onnx"
    export_onnx(model, path, (320, 320))
    runtime = init_model(CONFIG, str(path), cfg_options=options)
    image = photo("astronaut")
    expected, got = inference_model(model, image)[0], inference_model(runtime, image)[0]
    assert len(expected.pred_scores) == 200
    assert_same_detections(
        (got.pred_bboxes, got.pred_scores, got.pred_labels),
        (expected.pred_bboxes, expected.pred_scores, expected.pred_labels),
    )
