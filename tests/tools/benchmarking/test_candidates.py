"""visionkit and its torchvision twin both answer a batch of uint8 images end to end, and model only."""

import numpy as np
import pytest
import torch
from benchmarking.candidates import (
    kind_of,
    prepare_for_timing,
    torchvision_candidate,
    visionkit_candidate,
)

from visionkit.apis import init_model
from visionkit.engine import load_config

IMAGE = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)


@pytest.mark.parametrize(
    ("config", "task"),
    [
        ("mobilenet_v2_toy.py", "classification"),
        ("ssdlite_mnv2_toy.py", "detection"),
        ("deeplabv3lite_mnv2_toy.py", "segmentation"),
        ("lraspp_mnv3_large_voc.py", "segmentation"),
        ("ssdlite320_mnv3_large_coco.py", "detection"),
    ],
)
@torch.inference_mode()
def test_end_to_end_and_model_only_run_on_both(config, task):
    cfg = load_config(f"configs/{config}")
    assert kind_of(cfg) == task
    model = init_model(cfg)
    prepare_for_timing(model)
    ours, theirs = visionkit_candidate("visionkit", model, cfg), torchvision_candidate(task, model, cfg)
    samples, predictions = ours.end_to_end([IMAGE, IMAGE]), theirs.end_to_end([IMAGE, IMAGE])
    assert len(samples) == len(predictions) == 2
    if task == "detection":
        # Same score prior in both: NMS keeps boxes in both, at the original image size.
        assert len(samples[0].pred_bboxes) > 0 and len(predictions[0]["boxes"]) > 0
        assert (samples[0].pred_bboxes[:, 2] <= 64).all() and (predictions[0]["boxes"][:, 2] <= 64).all()
    if task == "segmentation":
        assert samples[0].pred_seg_map.shape == predictions[0].shape == (48, 64)
    # Model only: the same network on the same preprocessed image, without pre/post-processing.
    mine, twin = ours.model_only([IMAGE])(), theirs.model_only([IMAGE])()
    if task == "classification":
        torch.testing.assert_close(mine.softmax(dim=1)[0], samples[0].pred_score)
        torch.testing.assert_close(twin.softmax(dim=1).max(dim=1).values[0], predictions[0][0])
    elif task == "detection":
        cls_scores, bbox_preds = mine
        levels = len(model.head.in_taps) + len(model.neck.blocks)  # a level per tap and per extra block
        assert len(cls_scores) == len(bbox_preds) == levels and all(len(level) == 1 for level in cls_scores)
        assert (
            len(twin["cls_logits"]) == 1 and twin["cls_logits"].shape[1] == twin["bbox_regression"].shape[1]
        )
    else:
        assert mine.shape[:2] == twin.shape[:2] == (1, model.decode_head.num_classes)


def test_unknown_model_type_is_named():
    cfg = load_config("configs/mobilenet_v2_toy.py", {"model.type": "Mystery"})
    with pytest.raises(ValueError, match="Mystery"):
        kind_of(cfg)


@pytest.mark.slow
@torch.inference_mode()
def test_deployed_candidates_run_the_same_graphs_in_both_runtimes():
    """--onnx --int8 --openvino: ONNX Runtime and OpenVINO rows of the float and the INT8 graph, each
    giving the same top-1 scores as its ONNX Runtime twin (float: to rounding; INT8: closer than float)."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("openvino")
    from benchmarking.deploy_candidates import onnxruntime_candidates

    cfg = load_config("configs/mobilenet_v2_toy.py")
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = init_model(cfg)
    candidates = onnxruntime_candidates(model, cfg, 2, IMAGE, int8=True, openvino=True)
    scores = {c.name: c.end_to_end([IMAGE])[0].pred_score for c in candidates}
    assert list(scores) == [
        "visionkit onnxruntime",
        "visionkit onnxruntime tuned",
        "visionkit onnxruntime int8",
        "visionkit onnxruntime int8 tuned",
        "visionkit openvino",
        "visionkit openvino int8",
    ]
    torch.testing.assert_close(
        scores["visionkit openvino"], scores["visionkit onnxruntime"], atol=1e-4, rtol=0
    )
    int8_gap = (scores["visionkit onnxruntime int8"] - scores["visionkit onnxruntime"]).abs().max()
    assert int8_gap > 1e-5  # the INT8 graph is not the float one
    assert (scores["visionkit openvino int8"] - scores["visionkit onnxruntime int8"]).abs().max() < int8_gap
