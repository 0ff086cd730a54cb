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
from visionkit.deploy.quantize import quantized_layer_count
from visionkit.engine import Runner

from ..bn_statistics import assert_depends_on_input
from ..engine.tiny_runs import CONFIG, cli_options, tiny_cfg
from ..tools.run_tool import load_tool

SIZE = (96, 96)  # the toy config's test pipeline crops to 96


@pytest.fixture(scope="module")
def int8_run(tmp_path_factory):
    """(cfg, float .onnx, INT8 export result, trained checkpoint) of a classifier trained for ~10 s."""
    root = tmp_path_factory.mktemp("int8")
    data = make_classification_set(root / "data", num_train_per_class=6, num_val_per_class=4, image_size=48)
    options = {"train_cfg.max_epochs": 4, "train_cfg.val_interval": 4, "train_dataloader.batch_size": 8}
    cfg = tiny_cfg(data["root"], root / "work", **options)
    Runner.from_cfg(cfg.copy()).train()
    checkpoint = str(root / "work" / "epoch_4.pth")
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
    assert meta["task"] == "classification"
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
def test_int8_predicts_what_float_predicts(int8_run, tmp_path):
    cfg, float_path, result, _ = int8_run
    images = sorted(Path(cfg.test_dataloader.dataset.data_root, "val").rglob("*.JPEG"))
    float_model, int8_model = init_model(cfg, str(float_path)), init_model(cfg, str(result.path))
    expected = inference_model(float_model, [str(p) for p in images])
    got = inference_model(int8_model, [str(p) for p in images])
    scores = torch.stack([s.pred_score for s in expected])
    assert_depends_on_input(scores[0], scores[1])
    assert len({int(s.pred_label) for s in expected}) > 1, (
        "the float model predicts one class for every image"
    )
    int8_scores = torch.stack([s.pred_score for s in got])
    assert (int8_scores - scores).abs().max() < 0.1
    changed = sum(int(a.pred_label) != int(b.pred_label) for a, b in zip(got, expected, strict=True))
    assert changed <= 1, f"{changed} of {len(got)} images change their top-1 in INT8"


@pytest.mark.slow
def test_tools_test_and_agreement_run_the_int8_graph(int8_run, tmp_path):
    cfg, _, result, checkpoint = int8_run
    data_root = ["--data-root", str(cfg.test_dataloader.dataset.data_root)]
    metrics = {
        name: load_tool("test").main(
            [CONFIG, path, "--work-dir", str(tmp_path / name), *data_root, *cli_options()]
        )
        for name, path in (("torch", checkpoint), ("int8", str(result.path)))
    }
    # 16 val images: at most one changes its top-1.
    assert abs(metrics["int8"]["accuracy/top1"] - metrics["torch"]["accuracy/top1"]) <= 100 / 16 + 1e-6
    agreement = load_tool("analysis/agreement").main(
        [
            CONFIG,
            checkpoint,
            str(result.path),
            *cli_options(**{"test_dataloader.dataset.data_root": data_root[1]}),
        ]
    )
    assert agreement["images"] == 16 and agreement["top1_agreement"] >= 15 / 16
