"""INT8 export end to end on a toy classifier trained for seconds: calibrated on its train split, its
float layers chosen by measured sensitivity, run by the ONNX Runtime backend, compared with float."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import onnx
import pytest
import torch

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from visionkit.apis import inference_model, init_model
from visionkit.datasets.toy_data import make_classification_set
from visionkit.deploy.int8 import export_int8
from visionkit.deploy.onnx_export import METADATA_KEY, export_onnx
from visionkit.deploy.quantize import (
    network_modules,
    network_nodes,
    preprocess,
    quantizable_layers,
    quantized_layer_count,
)
from visionkit.engine import Runner

from ..bn_statistics import assert_depends_on_input
from ..engine.tiny_runs import CONFIG, cli_options, tiny_cfg
from ..lively_models import lively_model
from ..tools.run_tool import load_tool

SIZE = (96, 96)  # the toy config's test pipeline crops to 96


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory):
    """(cfg, float .onnx, INT8 export result, trained checkpoint) of a classifier trained for ~10 s."""
    root = tmp_path_factory.mktemp("int8")
    data = make_classification_set(root / "data", num_train_per_class=6, num_val_per_class=4, image_size=48)
    options = {
        "train_cfg.max_epochs": 3,
        "train_cfg.val_interval": 3,
        "train_dataloader.batch_size": 8,
        "optim_wrapper.optimizer.lr": 1e-3,
    }
    cfg = tiny_cfg(data["root"], root / "work", **options)
    # Measured: 12 steps from the default init leave a model that gives every image the same scores
    # (BatchNorm statistics not settled), so training starts from input-dependent weights.
    torch.save({"state_dict": lively_model(cfg).state_dict()}, root / "init.pth")
    cfg.load_from = str(root / "init.pth")
    Runner.from_cfg(cfg.copy()).train()
    checkpoint = str(root / "work" / "epoch_3.pth")
    model = init_model(cfg, checkpoint)
    float_path = root / "model.onnx"
    export_onnx(model, float_path, SIZE)
    result = export_int8(cfg, float_path, root / "model.int8.onnx", calib_images=24, sensitivity_images=8)
    return cfg, float_path, result, checkpoint


@pytest.mark.slow
def test_int8_graph_quantizes_all_but_the_measured_layers(int8_run):
    _, float_path, result, _ = int8_run
    graph = onnx.load(str(result.path))
    counts = quantized_layer_count(graph)
    assert counts["float"] == len(result.float_layers) <= 3
    assert counts["int8"] >= 50  # 52 convs + the classifier of MobileNetV2, minus the float ones
    assert len(result.sensitivities) == counts["int8"] + counts["float"]
    # Every chosen layer stands out: at least 4x the median layer's error.
    median = statistics.median(s.error for s in result.sensitivities)
    by_layer = {s.layer: s.error for s in result.sensitivities}
    assert all(by_layer[name] >= 4 * median for name in result.float_layers)
    meta = json.loads({p.key: p.value for p in graph.metadata_props}[METADATA_KEY])
    assert meta["kind"] == "classification"
    assert meta["quantization"]["float_layers"] == result.float_layers
    assert meta["quantization"]["calibration"] == {
        "split": "train",
        "pipeline": "test",
        "float_layers_by": "measured sensitivity",
        "images": 24,
    }
    # int8 weights: the file is well under half the float one.
    assert result.path.stat().st_size < 0.5 * float_path.stat().st_size


@pytest.mark.slow
@pytest.mark.parametrize("runtime", ["onnxruntime", "openvino"])
def test_an_int8_graph_on_a_cpu_without_vnni_is_loaded_with_a_warning(int8_run, monkeypatch, runtime):
    # There ONNX Runtime's sessions take exact but slower kernels, and OpenVINO's int8 kernels for such CPUs
    # cost the toy segmenter 1.6 mIoU (docs/deployment.md): both say to ship the float graph.
    if runtime == "openvino":
        pytest.importorskip("openvino")
    from visionkit.deploy.runtimes import base

    cfg, float_path, result, _ = int8_run
    logged = []
    monkeypatch.setattr(base, "print_log", lambda message, **_: logged.append(message))
    monkeypatch.setattr(base, "int8_saturates", lambda: True)
    init_model(cfg, str(float_path), runtime=runtime)
    assert logged == []
    init_model(cfg, str(result.path), runtime=runtime)
    assert len(logged) == 1 and "no VNNI" in logged[0] and "export the float graph" in logged[0]
    monkeypatch.setattr(base, "int8_saturates", lambda: False)
    init_model(cfg, str(result.path), runtime=runtime)
    assert len(logged) == 1


def predictions(cfg, float_path, int8_path) -> tuple[list, list]:
    """(float, INT8) predictions through the ONNX Runtime backend on the 16 val images."""
    images = [str(p) for p in sorted(Path(cfg.test_dataloader.dataset.data_root, "val").rglob("*.JPEG"))]
    return (
        inference_model(init_model(cfg, str(float_path)), images),
        inference_model(init_model(cfg, str(int8_path)), images),
    )


@pytest.mark.slow
def test_int8_graph_runs_through_the_backend_on_an_input_dependent_model(int8_run):
    """The backend runs the INT8 graph and it is not the float one. How close it is to float is not
    asserted: measured over runs of this seconds-trained model, max |score difference| 0.10-0.34 and
    6-12 of 16 top-1 flips (its top-2 scores are within a few points); docs/deployment.md has trained
    models' figures."""
    cfg, float_path, result, _ = int8_run
    expected, got = predictions(cfg, float_path, result.path)
    scores = torch.stack([s.pred_score for s in expected])
    assert_depends_on_input(scores[0], scores[1])
    int8_scores = torch.stack([s.pred_score for s in got])
    torch.testing.assert_close(int8_scores.sum(dim=1), torch.ones(len(got)))
    assert (int8_scores - scores).abs().max() > 1e-4, "the INT8 graph computes what the float one does"


@pytest.mark.slow
def test_tools_test_and_agreement_run_the_int8_graph(int8_run, tmp_path):
    cfg, float_path, result, _ = int8_run
    data_root = ["--data-root", str(cfg.test_dataloader.dataset.data_root)]
    metrics = {
        name: load_tool("test").main(
            [CONFIG, path, "--work-dir", str(tmp_path / name), *data_root, *cli_options()]
        )
        for name, path in (("float", str(float_path)), ("int8", str(result.path)))
    }
    expected, got = predictions(cfg, float_path, result.path)
    same = sum(int(a.pred_label) == int(b.pred_label) for a, b in zip(expected, got, strict=True))
    # Accuracy can move by at most the images whose top-1 changed.
    assert abs(metrics["int8"]["accuracy/top1"] - metrics["float"]["accuracy/top1"]) <= 100 * (16 - same) / 16
    root = {"test_dataloader.dataset.data_root": data_root[1]}
    agreement = load_tool("analysis/agreement").main(
        [CONFIG, str(float_path), str(result.path), *cli_options(**root)]
    )
    assert agreement["images"] == 16 and agreement["top1_same"] == same


@pytest.mark.slow
def test_preprocessing_keeps_the_network_nodes_of_the_toy_detector(tmp_path):
    # onnxruntime's pre-processing optimisation dropped every node's module scopes from this graph (the
    # quick start's SSDLite), so its INT8 export failed: "No node of the ONNX graph comes from the network".
    model = init_model(str(Path(__file__).resolve().parents[2] / "configs/ssdlite_mnv2_toy.py"), None)
    export_onnx(model, tmp_path / "ssdlite.onnx", (320, 320))
    network = network_modules(onnx.load(str(tmp_path / "ssdlite.onnx")))
    prepared = onnx.load(str(preprocess(tmp_path / "ssdlite.onnx", tmp_path / "prepared.onnx")))
    layers = set(quantizable_layers(prepared, network).values())
    assert len(network_nodes(prepared, network)) > 100
    assert {"backbone.stem", "neck.blocks.3.2", "head.cls_convs.6.1", "head.reg_convs.6.1"} <= layers


@pytest.mark.slow
def test_openvino_runs_the_int8_graph_as_onnx_runtime_does(int8_run):
    """The same INT8 file in OpenVINO (oneDNN's int8 kernels) and in ONNX Runtime: OpenVINO's scores are
    nearer ONNX Runtime's INT8 scores than those are to float, so OpenVINO computes the quantized graph (had
    it run a float graph, its distance to ONNX Runtime's INT8 would equal float's)."""
    pytest.importorskip("openvino")
    cfg, float_path, result, _ = int8_run
    images = [str(p) for p in sorted(Path(cfg.test_dataloader.dataset.data_root, "val").rglob("*.JPEG"))]
    float_scores, ort_scores, ov_scores = (
        torch.stack(
            [s.pred_score for s in inference_model(init_model(cfg, str(path), runtime=runtime), images)]
        )
        for path, runtime in (
            (float_path, "onnxruntime"),
            (result.path, "onnxruntime"),
            (result.path, "openvino"),
        )
    )
    assert_depends_on_input(float_scores[0], float_scores[1])
    # Measured: max |score difference| OpenVINO - ONNX Runtime 0.038, ONNX Runtime - float 0.22 (the
    # means: 0.013 and 0.025; this seconds-trained model amplifies any rounding difference). OpenVINO's own
    # distance to float is not bounded here: it depends on the CPU's int8 kernels, and on CI's machine it
    # came out at 0.065, under twice the 0.037 to ONNX Runtime.
    assert (ov_scores - ort_scores).abs().max() < 0.5 * (ort_scores - float_scores).abs().max()
