"""TF's 'SAME' padding (``tf_padding=True``) survives every export: ONNX Runtime, OpenVINO, INT8 (QDQ) and
ExecuTorch run a TF-padded network as PyTorch does. The toy classifier at 64x64: every stride-2 layer sees an
even side, where TF pads after only; the same network with PyTorch's padding gives other scores, so a graph
that dropped the pad would fail."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import torch

from visionkit.apis import init_model

from ..bn_statistics import assert_depends_on_input, calibrate_batchnorm, randomise_batchnorm
from .onnx_toy_models import REPO

pytest.importorskip("onnxscript")
ort = pytest.importorskip("onnxruntime")

SIZE = (64, 64)
CONFIG = str(REPO / "configs/mobilenet_v2_toy.py")


@functools.cache
def classifier(tf_padding: bool) -> torch.nn.Module:
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = init_model(CONFIG, cfg_options={"model.backbone.tf_padding": tf_padding})
        randomise_batchnorm(model)
    return calibrate_batchnorm(model, SIZE)


def images(count: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (count, 3, *SIZE), generator=torch.Generator().manual_seed(seed)).float()


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict:
    from visionkit.deploy.onnx_export import export_module, export_onnx

    folder = tmp_path_factory.mktemp("tf_padding")
    model = classifier(True)
    wrapper = export_onnx(model, folder / "tf.onnx", SIZE, True)
    symmetric = init_model(CONFIG).eval()  # the same weights and statistics, PyTorch's padding
    symmetric.load_state_dict(model.state_dict())
    with torch.no_grad():
        expected, other = wrapper(images()), export_module(symmetric, SIZE)(images())
    first = lambda out: out[0] if isinstance(out, tuple) else out  # noqa: E731
    return dict(folder=folder, expected=first(expected), symmetric=first(other))


def _close(got: torch.Tensor, expected: torch.Tensor, atol: float) -> None:
    torch.testing.assert_close(got, expected, atol=atol, rtol=0)


@pytest.mark.slow
def test_onnx_openvino_and_int8_graphs_pad_as_tf(exports):
    expected, symmetric = exports["expected"], exports["symmetric"]
    assert_depends_on_input(expected[0], expected[1])
    assert (expected - symmetric).abs().max() > 0.05  # PyTorch's padding: other scores
    path = exports["folder"] / "tf.onnx"
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (scores,) = session.run(None, {"images": images().numpy()})
    _close(torch.from_numpy(scores), expected, 1e-4)
    pytest.importorskip("openvino")
    runtime = init_model(
        CONFIG, str(path), runtime="openvino", cfg_options={"model.backbone.tf_padding": True}
    )
    _close(runtime.run(images())["scores"], expected, 1e-4)
    from visionkit.deploy.quantize import quantize_onnx

    calibration = [images(1, seed).numpy() for seed in range(8)]
    int8 = quantize_onnx(path, exports["folder"] / "tf.int8.onnx", calibration)
    (quantized,) = ort.InferenceSession(str(int8), providers=["CPUExecutionProvider"]).run(
        None, {"images": images().numpy()}
    )
    # The toy's INT8 error (0.16 of a 0.41 score range) is of the order of the padding's effect (0.29), so the
    # graph is checked first: every convolution keeps its float pads (TF's (0, 0, 1, 1) included); then the
    # INT8 scores lie nearer TF-padded float's than PyTorch-padded float's (mean 0.06 against 0.13).
    assert _conv_pads(int8) == _conv_pads(path) and [0, 0, 1, 1] in _conv_pads(path)
    quantized = torch.from_numpy(quantized)
    assert (quantized - expected).abs().mean() < 0.75 * (quantized - symmetric).abs().mean()


def _conv_pads(path: Path) -> list[list[int]]:
    """Each convolution's ``pads`` (x1_begin, x2_begin, x1_end, x2_end) in graph order."""
    import onnx

    graph = onnx.load(str(path)).graph
    convs = [node for node in graph.node if node.op_type in ("Conv", "QLinearConv")]
    return [next((list(a.ints) for a in node.attribute if a.name == "pads"), [0, 0, 0, 0]) for node in convs]


@pytest.mark.slow
def test_executorch_program_pads_as_tf(tmp_path):
    pytest.importorskip("executorch")
    from visionkit.deploy.executorch_export import export_executorch
    from visionkit.deploy.runtimes import ExecuTorchModel

    model = classifier(True)
    wrapper = export_executorch(model, tmp_path / "tf.pte", SIZE)
    with torch.no_grad():
        expected = wrapper(images())
    expected = expected[0] if isinstance(expected, tuple) else expected
    got = ExecuTorchModel(model.cfg, tmp_path / "tf.pte").run(images())["scores"]
    _close(got, expected, 1e-4)
    assert np.isfinite(got.numpy()).all() and Path(f"{tmp_path / 'tf.pte'}.json").is_file()
