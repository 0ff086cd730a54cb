"""Toy models of each task with non-trivial BatchNorm, exported once per test session.

BatchNorm gets random affine parameters and running statistics measured on random images, as training
would leave them. Random running statistics alone let the activations of an untrained network fade with
depth until every position gives the same scores, and then the order of equal detections would decide the
comparison, not the graph.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import torch
from torch import Tensor, nn

from visionkit.apis import init_model
from visionkit.deploy.onnx_export import export_onnx

from ..bn_statistics import calibrate_batchnorm, randomise_batchnorm

REPO = Path(__file__).resolve().parents[2]
# config, export input size (H, W), config overrides. Detection: a score threshold that leaves some images
# fewer than max_per_img detections, so the graph's padding rows are exercised.
TOY = {
    "classification": ("configs/mobilenet_v2_toy.py", (96, 96), {}),
    "segmentation": ("configs/deeplabv3lite_mnv2_toy.py", (64, 64), {}),
    "detection": ("configs/ssdlite_mnv2_toy.py", (320, 320), {"model.head.test_cfg.score_thr": 0.7}),
}
_EXPORT_DIR = Path(tempfile.mkdtemp(prefix="visionkit_onnx_"))
atexit.register(shutil.rmtree, _EXPORT_DIR, ignore_errors=True)


# The weights' seed per task, so that no test depends on which test built the model first. Detection's:
# the first of seeds 0-3 whose toy detector scores boxes over its 0.7 threshold on the tests' photos.
SEEDS = {"classification": 0, "segmentation": 0, "detection": 2}


@functools.cache
def toy_model(task: str) -> nn.Module:
    config, size, options = TOY[task]
    with torch.random.fork_rng():
        torch.manual_seed(SEEDS[task])
        model = randomise_batchnorm(init_model(str(REPO / config), cfg_options=options))
    return calibrate_batchnorm(model, size)


@functools.cache
def exported(task: str, postprocess: bool = True) -> tuple[nn.Module, Path]:
    """(the export wrapper, the .onnx file) of ``task``'s toy model; each export happens once."""
    path = _EXPORT_DIR / f"{task}_{int(postprocess)}.onnx"
    return export_onnx(toy_model(task), path, TOY[task][1], postprocess), path


def assert_same_detections(
    got: tuple[Tensor, Tensor, Tensor],
    expected: tuple[Tensor, Tensor, Tensor],
    box_atol: float = 0.1,
    max_unmatched: int = 2,
) -> None:
    """(boxes (D, 4) pixels, scores (D,), labels (D,)) of one image hold the same detections.

    ONNX Runtime and PyTorch scores differ by up to ~2e-4 and boxes by ~0.03 px (float32 rounding through
    the network; these toy models have large activations), so detections
    that close to each other may swap places, and one that close to the score threshold (or with an IoU
    that close to the NMS threshold) may be kept by one and not the other: each detection needs a
    counterpart of the same class, score and box, except at most ``max_unmatched`` on either side.
    """
    (boxes, scores, labels), (ref_boxes, ref_scores, ref_labels) = got, expected
    assert abs(len(scores) - len(ref_scores)) <= max_unmatched
    close = (
        ((boxes[:, None] - ref_boxes[None]).abs().amax(dim=-1) <= box_atol)
        & ((scores[:, None] - ref_scores[None]).abs() <= 1e-3)
        & (labels[:, None] == ref_labels[None])
    )
    assert len(scores) - int(close.any(dim=1).sum()) <= max_unmatched, "detections without counterpart"
    assert len(ref_scores) - int(close.any(dim=0).sum()) <= max_unmatched, "detections missing"
