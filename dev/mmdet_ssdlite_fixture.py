"""Check configs/ssdlite_mnv2_mmdet_coco.py against mmdetection 3.3.0 itself and write the test fixture.

Builds mmdetection's ``ssdlite_mobilenetv2-scratch_8xb24-600e_coco`` from mmdet's own config, gives it the
seeded random weights of ``tests/models/mmdet_ssdlite_reference.py``, saves them as an mmdet checkpoint
(``meta`` + ``state_dict``), and runs both mmdet (``init_detector`` / ``inference_detector``, BGR arrays) and
visionkit (``init_model`` / ``inference_model``, RGB arrays) from that file on the same skimage photos. It
prints the differences of the preprocessed inputs, the raw head outputs and the detections, and writes
mmdet's detections (outputs only, no weights) to ``tests/models/fixtures/mmdet_ssdlite_outputs.json``.

Needs mmdetection 3.3.0 and mmcv 2.1.0 with ops, which are not visionkit dependencies: see
``docs/detection.md`` ("Checked against mmdetection") for the side virtualenv. Run from the repository root:

    /work/mmdet-venv/bin/python dev/mmdet_ssdlite_fixture.py
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIXTURE = ROOT / "tests/models/fixtures/mmdet_ssdlite_outputs.json"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(FIXTURE), help="fixture JSON to write")
    return parser.parse_args()


# Arguments first, so that --help answers where mmdetection is not installed (it is not a dependency).
ARGS = parse_args() if __name__ == "__main__" else None

import mmcv  # noqa: E402
import mmdet  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmdet.apis import inference_detector, init_detector  # noqa: E402
from mmdet.models.dense_heads import SSDHead  # noqa: E402
from mmengine.dataset import pseudo_collate  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

from tests.models.mmdet_ssdlite_reference import (  # noqa: E402
    PHOTOS,
    SEED,
    SMALL_NMS_PRE,
    match_detections,
    photo,
    seeded_mmdet_state_dict,
)
from visionkit.apis import inference_model, init_model  # noqa: E402
from visionkit.apis.inference import build_test_pipeline, prepare_image  # noqa: E402

MMDET_CONFIG = Path(mmdet.__file__).parent / ".mim/configs/ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py"
VISIONKIT_CONFIG = ROOT / "configs/ssdlite_mnv2_mmdet_coco.py"

# mmdet 3.3.0's SSDHead reads self.loss_cls in predict, but only builds it for training (a known issue).
SSDHead.loss_cls = None


def detections(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor) -> dict[str, np.ndarray]:
    return dict(bboxes=boxes.numpy(), scores=scores.numpy(), labels=labels.numpy())


def raw_outputs(mmdet_model, visionkit_model, rgb: np.ndarray) -> tuple[float, float]:
    """Max |difference| of the preprocessed inputs (each library's own test pipeline and data
    preprocessor), then of the class scores and box deltas of all levels on mmdet's input."""
    with DefaultScope.overwrite_default_scope("mmdet"):
        mm_data = mmdet_model.data_preprocessor(dict(inputs=[mmdet_model_pipeline(mmdet_model, rgb)]), False)
    with DefaultScope.overwrite_default_scope("visionkit"):
        prepared = prepare_image(rgb, build_test_pipeline(visionkit_model.cfg))
    vk_data = visionkit_model.data_preprocessor(pseudo_collate([prepared]), False)
    input_diff = (mm_data["inputs"] - vk_data["inputs"]).abs().max().item()
    with torch.no_grad():
        mm_cls, mm_reg = mmdet_model._forward(mm_data["inputs"])
        vk_cls, vk_reg = visionkit_model(mm_data["inputs"], mode="tensor")
    head_diff = max((a - b).abs().max().item() for a, b in zip(mm_cls + mm_reg, vk_cls + vk_reg, strict=True))
    return input_diff, head_diff


def mmdet_model_pipeline(mmdet_model, rgb: np.ndarray) -> torch.Tensor:
    """mmdet's test pipeline on the BGR array -> the (3, 320, 320) uint8 tensor it feeds the model."""
    from mmcv.transforms import Compose
    from mmdet.utils import get_test_pipeline_cfg

    steps = get_test_pipeline_cfg(mmdet_model.cfg.copy())
    steps[0].type = "mmdet.LoadImageFromNDArray"
    return Compose(steps)(dict(img=np.ascontiguousarray(rgb[..., ::-1]), img_id=0))["inputs"]


def compare(name: str, mmdet_model, visionkit_model) -> dict[str, np.ndarray]:
    """Both libraries' detections on photo ``name``; prints their differences, returns mmdet's."""
    rgb = photo(name)
    with DefaultScope.overwrite_default_scope("mmdet"):
        result = inference_detector(mmdet_model, np.ascontiguousarray(rgb[..., ::-1])).pred_instances
    expected = detections(result.bboxes, result.scores, result.labels)
    with DefaultScope.overwrite_default_scope("visionkit"):
        actual = inference_model(visionkit_model, rgb)[0]
    actual = detections(actual.pred_bboxes, actual.pred_scores, actual.pred_labels)
    input_diff, head_diff = raw_outputs(mmdet_model, visionkit_model, rgb)
    rows, cols = match_detections(expected, actual)
    box = np.abs(expected["bboxes"][rows] - actual["bboxes"][cols]).max(initial=0)
    score = np.abs(expected["scores"][rows] - actual["scores"][cols]).max(initial=0)
    labels = int((expected["labels"][rows] != actual["labels"][cols]).sum())
    print(
        f"{name} {rgb.shape[1]}x{rgb.shape[0]}, nms_pre {visionkit_model.head.nms_pre}: mmdet "
        f"{len(expected['scores'])} detections, visionkit {len(actual['scores'])}; max |diff| input "
        f"{input_diff:.2e}, head outputs {head_diff:.2e}, boxes {box:.2e} px, scores {score:.2e}; label "
        f"mismatches {labels}; {len(np.unique(expected['labels']))} classes, scores "
        f"{expected['scores'].min():.3f}..{expected['scores'].max():.3f}"
    )
    return expected


def as_json(runs: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, list]]:
    return {name: {key: value.tolist() for key, value in dets.items()} for name, dets in runs.items()}


def main(args: argparse.Namespace) -> None:
    torch.set_num_threads(2)

    mmdet_model = init_detector(str(MMDET_CONFIG), None, device="cpu")
    key_shapes = [(key, list(value.shape)) for key, value in mmdet_model.state_dict().items()]
    state_dict = seeded_mmdet_state_dict(key_shapes, SEED)
    mmdet_model.load_state_dict(state_dict, strict=True)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = str(Path(tmp) / "mmdet_ssdlite_seeded.pth")
        meta = dict(mmdet_version=mmdet.__version__, dataset_meta=dict(mmdet_model.dataset_meta))
        torch.save(dict(meta=meta, state_dict=state_dict), checkpoint)
        mmdet_model = init_detector(str(MMDET_CONFIG), checkpoint, device="cpu")
        visionkit_model = init_model(str(VISIONKIT_CONFIG), checkpoint)
    for key, value in mmdet_model.state_dict().items():
        assert torch.equal(value, state_dict[key]), f"mmdet did not load {key}"

    expected = {name: compare(name, mmdet_model, visionkit_model) for name in PHOTOS}
    # With 1000 pairs per level the 200 kept come from the overall top 1000 anyway; at 100 they do not,
    # so this run shows whether nms_pre counts per level.
    mmdet_model.bbox_head.test_cfg.nms_pre = visionkit_model.head.nms_pre = SMALL_NMS_PRE
    small = {name: compare(name, mmdet_model, visionkit_model) for name in PHOTOS[:1]}

    ops_file = getattr(importlib.import_module("mmcv._ext"), "__file__", None) or "not compiled"
    fixture = dict(
        source=(
            f"mmdetection {mmdet.__version__} (mmcv {mmcv.__version__} ops {Path(ops_file).name}, torch "
            f"{torch.__version__}), "
            f"configs/ssd/{MMDET_CONFIG.name}, weights seeded_mmdet_state_dict(key_shapes, seed={SEED}); "
            "written by dev/mmdet_ssdlite_fixture.py"
        ),
        seed=SEED,
        key_shapes=key_shapes,
        photos=as_json(expected),
        small_nms_pre=SMALL_NMS_PRE,
        photos_small_nms_pre=as_json(small),
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(fixture) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main(ARGS)
