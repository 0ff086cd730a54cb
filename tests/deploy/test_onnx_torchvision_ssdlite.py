"""configs/ssdlite320_mnv3_large_coco.py exports to ONNX with torchvision's inference in the graph (the best
anchors of each class, boxes clipped to the image); ONNX Runtime gives the PyTorch detections."""

import numpy as np
import pytest
import torch

from tests.bn_statistics import calibrate_batchnorm
from tests.models.mmdet_ssdlite_reference import photo
from tests.models.test_torchvision_ssdlite import CONFIG
from visionkit.apis import inference_model, init_model
from visionkit.deploy.onnx_export import export_onnx

from .onnx_toy_models import assert_same_detections


@pytest.mark.slow
def test_onnx_runtime_gives_the_torchvision_models_detections(tmp_path):
    # 10 per class makes the per-class top-k decide which boxes reach NMS (test_torchvision_ssdlite.py).
    options = {"model.head.test_cfg.topk_per_class": 10}
    torch.manual_seed(0)
    model = calibrate_batchnorm(init_model(CONFIG, cfg_options=options), (320, 320))
    checkpoint = tmp_path / "ssdlite.pth"
    torch.save(model.state_dict(), checkpoint)
    path = tmp_path / "ssdlite320.onnx"
    export_onnx(model, path, (320, 320))
    runtime = init_model(CONFIG, str(path), cfg_options=options)
    images = [np.ascontiguousarray(photo(name)[:320, :320]) for name in ("astronaut", "coffee")]
    expected, got = inference_model(model, images), inference_model(runtime, images)
    assert len(expected[0].pred_scores) == 300
    assert (expected[0].pred_bboxes[:20] - expected[1].pred_bboxes[:20]).abs().max() > 1  # input matters
    for one, other in zip(got, expected, strict=True):
        assert_same_detections(
            (one.pred_bboxes, one.pred_scores, one.pred_labels),
            (other.pred_bboxes, other.pred_scores, other.pred_labels),
        )
