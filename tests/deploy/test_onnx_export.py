"""Every task's exported graph gives PyTorch's outputs in ONNX Runtime, at batch 1 and 3."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
import torch

from visionkit.deploy.onnx_export import METADATA_KEY, export_module, export_onnx
from visionkit.models.box_ops import rescale_boxes
from visionkit.models.heads.seg_head import resize_logits
from visionkit.structures import DataSample

from ..bn_statistics import assert_depends_on_input, calibrate_batchnorm, randomise_batchnorm
from ..tools.run_tool import run_tool
from .onnx_toy_models import REPO, TOY, assert_same_detections, exported, toy_model

pytest.importorskip("onnxscript")
ort = pytest.importorskip("onnxruntime")


def run_both(task: str, postprocess: bool, images: torch.Tensor) -> tuple[list, list]:
    wrapper, path = exported(task, postprocess)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = [torch.from_numpy(out) for out in session.run(None, {"images": images.numpy()})]
    with torch.no_grad():
        expected = wrapper(images)
    return got, list(expected) if isinstance(expected, tuple) else [expected]


def random_images(batch: int, size: tuple[int, int], seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 256, (batch, 3, *size), generator=torch.Generator().manual_seed(seed)).float()


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize(
    ("task", "postprocess"), [("classification", True), ("segmentation", True), ("detection", False)]
)
def test_onnx_runtime_matches_pytorch(task, postprocess, batch):
    """Same outputs at a batch size other than the traced one (2): the batch axis is dynamic.

    Measured: probabilities ~1e-5, segmentation logits ~1e-4, detection scores ~2e-4 and boxes ~0.03 px
    apart (float32 rounding).
    """
    got, expected = run_both(task, postprocess, random_images(batch, TOY[task][1]))
    assert len(got) == len(expected)
    for out, ref in zip(got, expected, strict=True):
        assert out.shape == ref.shape and out.shape[0] == batch
        if ref.is_floating_point():
            # Rounding grows with the output's range: boxes in pixels are ~0.03 apart where scores are 2e-4.
            torch.testing.assert_close(out, ref, atol=1e-3 + 1e-4 * float(ref.abs().max()), rtol=1e-3)
        else:
            assert (out != ref).float().mean() < 1e-3  # argmax of logits equal to rounding only


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 3])
def test_detection_graph_with_nms_matches_pytorch(batch):
    (boxes, scores, labels, counts), expected = run_both(
        "detection", True, random_images(batch, TOY["detection"][1])
    )
    assert boxes.shape == (batch, toy_model("detection").head.test_cfg.max_per_img, 4)
    assert (counts - expected[3]).abs().max() <= 2  # see assert_same_detections
    for index, count in enumerate(counts.tolist()):
        assert_same_detections(
            (boxes[index, :count], scores[index, :count], labels[index, :count]),
            (expected[0][index, :count], expected[1][index, :count], expected[2][index, :count]),
        )


def test_segmentation_graph_takes_any_input_size():
    """H and W are dynamic: a 48x80 batch gives logits and labels at 48x80."""
    logits, labels = run_both("segmentation", True, random_images(3, (48, 80)))[0]
    assert logits.shape == (3, 5, 48, 80) and labels.shape == (3, 48, 80)
    torch.testing.assert_close(labels, logits.argmax(dim=1))


def test_classifier_scores_are_probabilities():
    (scores,), _ = run_both("classification", True, random_images(3, (96, 96)))
    torch.testing.assert_close(scores.sum(dim=1), torch.ones(3))
    assert scores.std() > 1e-3  # random BatchNorm statistics make the classes differ


def test_detection_graph_gives_the_predict_path_detections():
    """Score threshold, top-k, per-class NMS and max detections in the graph = SSDLiteHead.predict."""
    model = toy_model("detection")
    size = TOY["detection"][1]
    images = random_images(3, size, seed=1)
    (boxes, scores, labels, counts), _ = run_both("detection", True, images)
    samples = [DataSample(metainfo=dict(img_shape=size, ori_shape=size)) for _ in range(3)]
    with torch.no_grad():
        inputs = model.data_preprocessor({"inputs": list(images), "data_samples": samples})["inputs"]
        predicted = model(inputs, samples, mode="predict")
    max_per_img = model.head.test_cfg.max_per_img
    assert boxes.shape == (3, max_per_img, 4) and counts.dtype == torch.int64
    assert any(0 < int(n) < max_per_img for n in counts), "the padding rows are not exercised"
    for index, sample in enumerate(predicted):
        count = int(counts[index])
        clipped = rescale_boxes(boxes[index, :count], size, size)  # predict clips to the image
        assert_same_detections(
            (clipped, scores[index, :count], labels[index, :count]),
            (sample.pred_bboxes, sample.pred_scores, sample.pred_labels),
        )
        assert (scores[index, :count].diff() <= 0).all()  # highest first
        assert (labels[index, count:] == -1).all() and (scores[index, count:] == 0).all()


def test_metadata_describes_the_graph():
    _, path = exported("detection", True)
    meta = json.loads(ort.InferenceSession(str(path)).get_modelmeta().custom_metadata_map[METADATA_KEY])
    assert meta["kind"] == "detection" and meta["input_size"] == [320, 320]
    assert meta["model_type"] == "SSDDetector"
    assert meta["outputs"] == ["boxes", "scores", "labels", "num_detections"]
    assert meta["settings"] == dict(
        score_thr=0.7,
        nms_pre=1000,
        nms_iou=0.6,
        max_per_img=100,
        nms_pre_per_level=False,
        topk_per_class=None,
        clip_border=False,
        min_bbox_size=None,
        max_per_class=None,
        clip_after_nms=False,
    )


def test_backend_sessions_stop_spinning_after_each_run():
    # Left spinning, the pool's threads held a core for tens of ms after each run, and the PyTorch pre-
    # and post-processing that follows waited for it (docs/benchmarks.md, visionkit/deploy/ort_session.py).
    from visionkit.deploy.runtimes import OnnxRuntimeModel

    _, path = exported("classification", True)
    options = OnnxRuntimeModel(toy_model("classification").cfg, path).session.get_session_options()
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"
    assert options.inter_op_num_threads == 1 and options.intra_op_num_threads == 0  # 0: one per core


@pytest.mark.parametrize(
    "machine, vnni, exact", [("x86_64", False, True), ("x86_64", True, False), ("aarch64", False, False)]
)
def test_sessions_take_exact_int8_kernels_where_int8_saturates(monkeypatch, machine, vnni, exact):
    # x86 without VNNI: ONNX Runtime's default uint8 x int8 kernels saturate (tests/tools/test_cpu_features.py
    # runs them on such a CPU's kernels); with VNNI the exact kernels would only be slower.
    from visionkit.deploy import ort_session

    monkeypatch.setattr(ort_session.platform, "machine", lambda: machine)
    monkeypatch.setattr(ort_session, "cpu_has_vnni", lambda: vnni)
    options = ort_session.session_options()
    try:
        value = options.get_session_config_entry("session.x64quantprecision")
    except RuntimeError:  # onnxruntime: "does not have configuration with key"
        value = None
    assert (value == "1") == exact


def test_segmentor_with_multi_scale_test_cfg_is_refused():
    from visionkit.apis import init_model

    model = init_model(
        str(REPO / "configs/deeplabv3lite_mnv2_toy.py"), cfg_options={"model.test_cfg.flip": True}
    )
    with pytest.raises(ValueError, match="whole-image pass"):
        export_module(model, (64, 64))


@pytest.mark.slow
def test_export_tool_end_to_end(tmp_path):
    """tools/export.py: checkpoint in, .onnx out, ONNX Runtime vs PyTorch differences printed."""
    from visionkit.apis import init_model

    torch.manual_seed(0)  # the random init (else it depends on which tests ran before in this process)
    model = calibrate_batchnorm(
        randomise_batchnorm(init_model(str(REPO / TOY["classification"][0])), seed=3), (96, 96)
    )
    checkpoint = tmp_path / "epoch_1.pth"
    meta = {"dataset_meta": {"classes": ["circle", "square", "star", "triangle"]}}
    torch.save({"state_dict": model.state_dict(), "meta": meta}, checkpoint)
    result = run_tool(
        "export.py", TOY["classification"][0], str(checkpoint), "--format", "onnx", "--batch", "3"
    )
    assert "max abs difference" in result.stdout and "matches PyTorch" in result.stdout
    onnx_file = checkpoint.with_suffix(".onnx")
    session = ort.InferenceSession(str(onnx_file))
    stored = json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])
    assert stored["dataset_meta"]["classes"] == meta["dataset_meta"]["classes"]
    images = random_images(2, (96, 96))
    (scores,) = session.run(None, {"images": images.numpy()})
    with torch.no_grad():
        expected = model(model.data_preprocessor({"inputs": list(images)})["inputs"]).softmax(dim=1)
    assert_depends_on_input(expected[0], expected[1])
    torch.testing.assert_close(torch.from_numpy(scores), expected, atol=1e-4, rtol=1e-4)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["classification", "segmentation"])
def test_onnx_runtime_matches_the_model_behind_its_own_data_preprocessor(task):
    """The graph against the PyTorch path a user runs (data preprocessor -> model), not the export wrapper:
    a normalisation the wrapper gets wrong (a dropped ``/ std``, no channel swap) fails here."""
    model, size = toy_model(task), TOY[task][1]
    images = random_images(2, size, seed=2)
    got, _ = run_both(task, True, images)
    with torch.no_grad():
        outputs = model(model.data_preprocessor({"inputs": list(images)})["inputs"], mode="tensor")
    expected = outputs.softmax(dim=1) if task == "classification" else resize_logits(outputs, size)
    assert_depends_on_input(expected[0], expected[1])
    torch.testing.assert_close(got[0], expected, atol=1e-3 * float(expected.abs().max()), rtol=1e-3)


@pytest.mark.slow
def test_export_refuses_a_graph_whose_dynamic_axis_was_fixed(tmp_path, monkeypatch):
    """An exporter fallback that fixes the batch axis (what a ``len(tensor)`` causes) is an error, not a
    graph that fails at another batch size."""
    real_export = torch.onnx.export

    def fixed_export(*args, **kwargs):
        return real_export(*args, **{**kwargs, "dynamic_shapes": None})

    monkeypatch.setattr(torch.onnx, "export", fixed_export)
    with pytest.raises(
        RuntimeError, match=r"fixed the \['batch'\] axes .* ImageClassifier.*docs/deployment.md"
    ):
        export_onnx(toy_model("classification"), tmp_path / "fixed.onnx", TOY["classification"][1])
    assert not (tmp_path / "fixed.onnx").exists()


def _export_tool():
    spec = importlib.util.spec_from_file_location("export_tool", REPO / "tools" / "export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_export_tool_exits_non_zero_above_atol(tmp_path, monkeypatch):
    from visionkit.deploy.runtimes import OnnxRuntimeModel

    checkpoint = tmp_path / "model.pth"
    torch.save({"state_dict": toy_model("classification").state_dict()}, checkpoint)
    real_run = OnnxRuntimeModel.run
    monkeypatch.setattr(
        OnnxRuntimeModel, "run", lambda self, images: {k: v + 0.01 for k, v in real_run(self, images).items()}
    )
    args = [TOY["classification"][0], str(checkpoint), "--format", "onnx"]
    with pytest.raises(SystemExit, match=r"differ beyond the limit in \['scores'\]"):
        _export_tool().main([*args, "--atol", "0.005"])


def test_export_tool_without_the_deploy_extra_says_what_to_install(monkeypatch):
    tool = _export_tool()
    monkeypatch.setattr(tool, "find_spec", lambda name: None if name == "onnxruntime" else object())
    with pytest.raises(SystemExit, match=re.escape('needs onnxruntime: pip install -e ".[deploy]"')):
        tool.main(["config.py", "model.pth"])


@pytest.mark.slow
def test_mobilenet_v3_classifier_exports(tmp_path):
    """Hard-swish, the hard-sigmoid squeeze-excite, 5x5 depthwise convs and the hidden classifier layer
    export; ONNX Runtime gives PyTorch's scores."""
    from visionkit.apis import init_model

    config = str(REPO / "configs" / "mobilenet_v3_small_imagenet.py")
    model = init_model(config, cfg_options={"model.backbone.widen_factor": 0.5})
    model = calibrate_batchnorm(randomise_batchnorm(model), (96, 96))
    wrapper = export_onnx(model, tmp_path / "mobilenet_v3.onnx", (96, 96))
    session = ort.InferenceSession(str(tmp_path / "mobilenet_v3.onnx"), providers=["CPUExecutionProvider"])
    images = random_images(3, (96, 96))
    (got,) = session.run(None, {"images": images.numpy()})
    with torch.no_grad():
        expected = wrapper(images)  # the scores tensor, the graph's one output
    assert_depends_on_input(expected[0], expected[1])
    torch.testing.assert_close(torch.from_numpy(got), expected, rtol=1e-3, atol=1e-6)
