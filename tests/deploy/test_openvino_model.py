"""An exported .onnx file run by OpenVINO (init_model(..., runtime="openvino"), tools/test.py --runtime
openvino) gives the PyTorch model's predictions, as the ONNX Runtime backend does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visionkit.apis import inference_model, init_model
from visionkit.deploy.openvino_model import OpenVinoModel, compile_settings

from ..bn_statistics import assert_depends_on_input
from .onnx_toy_models import REPO, TOY, assert_same_detections, exported, toy_model

pytest.importorskip("onnxscript")
pytest.importorskip("openvino")


def openvino_model(task: str, postprocess: bool = True) -> OpenVinoModel:
    config, _, options = TOY[task]
    path = str(exported(task, postprocess)[1])
    model = init_model(str(REPO / config), path, cfg_options=options, runtime="openvino")
    assert isinstance(model, OpenVinoModel)
    return model


def photos(*shapes: tuple[int, int]) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (*shape, 3), dtype=np.uint8) for shape in shapes]


def test_classification_predictions_match():
    images = photos((120, 90), (96, 96), (64, 128))
    expected = inference_model(toy_model("classification"), images)
    assert len({int(sample.pred_label) for sample in expected}) > 1 or not torch.allclose(
        expected[0].pred_score, expected[1].pred_score
    )
    got = inference_model(openvino_model("classification"), images, batch_size=2)
    for ours, ref in zip(got, expected, strict=True):
        torch.testing.assert_close(ours.pred_score, ref.pred_score, atol=1e-4, rtol=1e-4)
        assert ours.pred_label == ref.pred_label


def test_segmentation_logits_and_predictions_match():
    """The graph's logits against ONNX Runtime's on two inputs, then the label maps at the original size."""
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 255
    reference = init_model(str(REPO / TOY["segmentation"][0]), str(exported("segmentation")[1]))
    expected = reference.run(images)["logits"]
    assert_depends_on_input(expected[0], expected[1])
    torch.testing.assert_close(
        openvino_model("segmentation").run(images)["logits"], expected, atol=1e-4, rtol=1e-4
    )
    photo_batch = photos((50, 70), (64, 48))
    expected_maps = inference_model(toy_model("segmentation"), photo_batch, batch_size=2)
    got = inference_model(openvino_model("segmentation"), photo_batch, batch_size=2)
    for ours, ref, image in zip(got, expected_maps, photo_batch, strict=True):
        assert ours.pred_seg_map.shape == image.shape[:2] == ref.pred_seg_map.shape
        assert (ours.pred_seg_map != ref.pred_seg_map).float().mean() < 1e-3  # argmax ties only


@pytest.mark.parametrize("postprocess", [True, False])
def test_detection_predictions_match_in_original_pixels(postprocess):
    images = photos((150, 200), (300, 120))
    expected = inference_model(toy_model("detection"), images)
    got = inference_model(openvino_model("detection", postprocess), images)
    assert sum(len(sample.pred_scores) for sample in expected) > 0
    for ours, ref in zip(got, expected, strict=True):
        assert_same_detections(
            (ours.pred_bboxes, ours.pred_scores, ours.pred_labels),
            (ref.pred_bboxes, ref.pred_scores, ref.pred_labels),
        )


def test_float_graphs_run_in_float32_not_bfloat16():
    """OpenVINO's CPU default on AMX machines is bfloat16; the settings ask for float32 everywhere."""
    assert compile_settings()["INFERENCE_PRECISION_HINT"] == "f32"
    assert compile_settings(2)["INFERENCE_NUM_THREADS"] == 2
    model = openvino_model("classification")
    assert str(model.compiled.get_property("INFERENCE_PRECISION_HINT")) == "<Type: 'float32'>"


def test_unknown_runtime_and_devices_are_refused():
    config = TOY["classification"][0]
    path = str(exported("classification")[1])
    with pytest.raises(ValueError, match="'onnxruntime' or 'openvino'"):
        init_model(str(REPO / config), path, runtime="tensorrt")
    with pytest.raises(ValueError, match="on the CPU"):
        init_model(str(REPO / config), path, device="cuda:0", runtime="openvino")


def test_a_graph_without_visionkit_metadata_is_refused(tmp_path):
    import onnx

    graph = onnx.load(str(exported("classification")[1]))
    del graph.metadata_props[:]
    onnx.save(graph, str(tmp_path / "bare.onnx"))
    with pytest.raises(ValueError, match="no 'visionkit' metadata"):
        init_model(str(REPO / TOY["classification"][0]), str(tmp_path / "bare.onnx"), runtime="openvino")
