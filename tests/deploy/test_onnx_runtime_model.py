"""An exported .onnx file behind init_model / inference_model gives the PyTorch model's predictions, in
ONNX Runtime and in OpenVINO (``runtime="openvino"``)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from visionkit.apis import inference_model, init_model
from visionkit.deploy.runtimes import OnnxRuntimeModel, OpenVinoModel, RuntimeModel, pad_stack

from ..tools.run_tool import run_tool
from .onnx_toy_models import REPO, TOY, assert_same_detections, exported, toy_model

pytest.importorskip("onnxscript")
pytest.importorskip("onnxruntime")


RUNTIMES = ["onnxruntime", "openvino"]


def onnx_model(task: str, postprocess: bool = True, runtime: str = "onnxruntime") -> RuntimeModel:
    if runtime == "openvino":
        pytest.importorskip("openvino")
    config, _, options = TOY[task]
    path = str(exported(task, postprocess)[1])
    model = init_model(str(REPO / config), path, cfg_options=options, runtime=runtime)
    assert type(model) is {"onnxruntime": OnnxRuntimeModel, "openvino": OpenVinoModel}[runtime]
    return model


def photos(*shapes: tuple[int, int]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (*shape, 3), dtype=np.uint8) for shape in shapes]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_classification_predictions_match(runtime):
    images = photos((120, 90), (96, 96), (64, 128))
    expected = inference_model(toy_model("classification"), images)
    assert len({int(sample.pred_label) for sample in expected}) > 1 or not torch.allclose(
        expected[0].pred_score, expected[1].pred_score
    )
    got = inference_model(onnx_model("classification", runtime=runtime), images, batch_size=2)
    for ours, ref in zip(got, expected, strict=True):
        torch.testing.assert_close(ours.pred_score, ref.pred_score, atol=1e-4, rtol=1e-4)
        assert ours.pred_label == ref.pred_label


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_segmentation_predictions_match_at_the_original_size(runtime):
    """Two images of different sizes in one batch: padded like the data preprocessor, cropped back."""
    images = photos((50, 70), (64, 48))
    expected = inference_model(toy_model("segmentation"), images, batch_size=2)
    got = inference_model(onnx_model("segmentation", runtime=runtime), images, batch_size=2)
    for ours, ref, image in zip(got, expected, images, strict=True):
        assert ours.pred_seg_map.shape == image.shape[:2] == ref.pred_seg_map.shape
        assert (ours.pred_seg_map != ref.pred_seg_map).float().mean() < 1e-3  # argmax ties only


@pytest.mark.parametrize("runtime", RUNTIMES)
@pytest.mark.parametrize("postprocess", [True, False])
def test_detection_predictions_match_in_original_pixels(postprocess, runtime):
    """The 150x200 photos are resized to 320x320 by the pipeline; boxes come back in photo pixels."""
    images = photos((150, 200), (300, 120))
    expected = inference_model(toy_model("detection"), images)
    got = inference_model(onnx_model("detection", postprocess, runtime), images)
    assert sum(len(sample.pred_scores) for sample in expected) > 0
    for ours, ref in zip(got, expected, strict=True):
        assert_same_detections(
            (ours.pred_bboxes, ours.pred_scores, ours.pred_labels),
            (ref.pred_bboxes, ref.pred_scores, ref.pred_labels),
        )


def test_detection_graph_refuses_another_input_size():
    model = onnx_model("detection")
    model.cfg.test_dataloader.dataset.pipeline[1].transforms[0].update(height=128, width=128)
    with pytest.raises(ValueError, match="--input-size 128 128"):
        inference_model(model, photos((100, 100)))


def test_pad_stack_pads_bottom_right_with_the_pixel():
    batch = pad_stack([torch.zeros(3, 2, 3), torch.ones(3, 3, 2)], (7.0, 8.0, 9.0))
    assert batch.shape == (2, 3, 3, 3)
    assert (batch[0, :, :2, :3] == 0).all() and batch[0, :, 2, 0].tolist() == [7.0, 8.0, 9.0]
    assert (batch[1, :, :, :2] == 1).all() and batch[1, :, 0, 2].tolist() == [7.0, 8.0, 9.0]
    assert pad_stack([torch.zeros(3, 5, 9)], (0.0, 0.0, 0.0), size_divisor=4).shape == (1, 3, 8, 12)


@pytest.mark.slow
def test_infer_tool_runs_an_onnx_file(tmp_path):
    """tools/infer.py with a .onnx checkpoint writes the PyTorch model's label map."""
    (image,) = photos((40, 56))
    cv2.imwrite(str(tmp_path / "photo.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    onnx_file = str(exported("segmentation")[1])
    config = TOY["segmentation"][0]
    run_tool("infer.py", config, onnx_file, str(tmp_path / "photo.png"), "--out-dir", str(tmp_path / "out"))
    (record,) = json.loads((tmp_path / "out" / "predictions.json").read_text())
    (expected,) = inference_model(toy_model("segmentation"), image)
    labels, pixels = expected.pred_seg_map.unique(return_counts=True)
    names = init_model(str(REPO / config)).dataset_meta["classes"]
    counts = record["segmentation"]["pixels_per_class"]
    expected_counts = {names[int(c)]: int(n) for c, n in zip(labels, pixels, strict=True)}
    # Pixels whose two best logits are within rounding (~1e-4) may take the other class.
    differ = sum(abs(counts.get(k, 0) - expected_counts.get(k, 0)) for k in {*counts, *expected_counts})
    assert counts and differ <= 0.01 * image.shape[0] * image.shape[1]
