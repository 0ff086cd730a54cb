"""What is OpenVINO's own in running an exported .onnx file (init_model(..., runtime="openvino"),
tools/test.py --runtime openvino); its predictions against PyTorch's for every task are checked beside ONNX
Runtime's in tests/deploy/test_onnx_runtime_model.py."""

from __future__ import annotations

import pytest
import torch

from visionkit.apis import init_model
from visionkit.deploy.runtimes.openvino import compile_settings

from ..bn_statistics import assert_depends_on_input
from .onnx_toy_models import REPO, TOY, exported
from .test_onnx_runtime_model import onnx_model

pytest.importorskip("onnxscript")
pytest.importorskip("openvino")


def test_segmentation_logits_match_onnx_runtime():
    """The graph's logits against ONNX Runtime's on two inputs whose logits differ (the label maps of
    both runtimes against PyTorch: tests/deploy/test_onnx_runtime_model.py)."""
    images = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 255
    expected = onnx_model("segmentation").run(images)["logits"]
    assert_depends_on_input(expected[0], expected[1])
    got = onnx_model("segmentation", runtime="openvino").run(images)["logits"]
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_float_graphs_run_in_float32_not_bfloat16():
    """OpenVINO's CPU default on AMX machines is bfloat16; the settings ask for float32 everywhere."""
    assert compile_settings()["INFERENCE_PRECISION_HINT"] == "f32"
    assert compile_settings(2)["INFERENCE_NUM_THREADS"] == 2
    model = onnx_model("classification", runtime="openvino")
    assert str(model.compiled.get_property("INFERENCE_PRECISION_HINT")) == "<Type: 'float32'>"


def test_devices_other_than_the_cpu_are_refused():
    config = TOY["classification"][0]
    path = str(exported("classification")[1])
    with pytest.raises(ValueError, match="on the CPU"):
        init_model(str(REPO / config), path, device="cuda:0", runtime="openvino")


def test_a_graph_without_visionkit_metadata_is_refused(tmp_path):
    import onnx

    graph = onnx.load(str(exported("classification")[1]))
    del graph.metadata_props[:]
    onnx.save(graph, str(tmp_path / "bare.onnx"))
    with pytest.raises(ValueError, match="no 'visionkit' metadata"):
        init_model(str(REPO / TOY["classification"][0]), str(tmp_path / "bare.onnx"), runtime="openvino")
