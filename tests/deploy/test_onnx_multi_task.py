"""A MultiTaskModel exports one graph (one backbone pass, every task's outputs) through the task contract,
and ONNX Runtime's outputs become the same predictions as the PyTorch model's."""

from __future__ import annotations

import json

import pytest
import torch

from visionkit.deploy.onnx_export import METADATA_KEY, export_onnx
from visionkit.deploy.runtimes import OnnxRuntimeModel
from visionkit.models import MultiTaskModel
from visionkit.structures import DataSample

from ..bn_statistics import calibrate_batchnorm, randomise_batchnorm
from ..models.test_multi_task import BACKBONE, CLASSIFICATION, SEGMENTATION

pytest.importorskip("onnxscript")
ort = pytest.importorskip("onnxruntime")
SIZE = (64, 64)
PREPROCESSOR = dict(type="ImgDataPreprocessor", mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


@pytest.mark.slow
def test_multi_task_graph_gives_every_tasks_predictions(tmp_path):
    torch.manual_seed(0)
    model = MultiTaskModel(
        backbone=BACKBONE,
        tasks=dict(segmentation=SEGMENTATION, classification=CLASSIFICATION),
        data_preprocessor=PREPROCESSOR,
    )
    model = calibrate_batchnorm(randomise_batchnorm(model), SIZE).eval()
    path = tmp_path / "multi.onnx"
    graph = export_onnx(model, path, SIZE)
    session = ort.InferenceSession(str(path))
    meta = json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])
    assert meta["outputs"] == ["segmentation.logits", "segmentation.labels", "classification.scores"]
    assert meta["input_size"] == [64, 64]  # fixed by the classifier
    images = torch.randint(0, 256, (2, 3, 64, 64), generator=torch.Generator().manual_seed(1)).float()
    samples = [DataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(48, 80))) for _ in range(2)]
    with torch.no_grad():
        inputs = model.data_preprocessor({"inputs": list(images), "data_samples": samples})["inputs"]
        expected = model(inputs, samples, mode="predict")
    runtime = OnnxRuntimeModel.__new__(OnnxRuntimeModel)
    runtime.session, runtime.meta = session, meta
    got = [DataSample(metainfo=dict(img_shape=(64, 64), ori_shape=(48, 80))) for _ in range(2)]
    model.outputs_to_samples(runtime.run(images), got, meta["settings"])
    assert graph.backbone is model.backbone  # one backbone pass for every head
    for ours, ref in zip(got, expected, strict=True):
        torch.testing.assert_close(ours.pred_score, ref.pred_score, atol=1e-4, rtol=1e-4)
        assert ours.pred_seg_map.shape == (48, 80)
        assert (ours.pred_seg_map != ref.pred_seg_map).float().mean() < 1e-3
    assert not torch.equal(expected[0].pred_score, expected[1].pred_score)  # depends on the input
