"""mmdetection's SSDLite-MobileNetV2 checkpoint loads into configs/ssdlite_mnv2_mmdet_coco.py and detects what
mmdetection 3.3.0 detects; the inference options that config turns on, each checked by hand."""

import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.models.mmdet_ssdlite_reference import PHOTOS, match_detections, photo, seeded_mmdet_state_dict
from visionkit.apis import inference_model, init_model
from visionkit.models.box_ops import decode_boxes, multiclass_nms, top_candidates
from visionkit.models.converters.mmdet_mobilenet_v2 import mmdet_to_visionkit_backbone_key
from visionkit.models.converters.mmdet_ssd import mmdet_to_visionkit_ssd_key

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "configs/ssdlite_mnv2_mmdet_coco.py")
FIXTURE = Path(__file__).parent / "fixtures/mmdet_ssdlite_outputs.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def mmdet_checkpoint(reference, tmp_path_factory) -> str:
    """The seeded weights the fixture was made with, saved as mmdet saves them (``meta`` + ``state_dict``)."""
    state_dict = seeded_mmdet_state_dict([(k, s) for k, s in reference["key_shapes"]], reference["seed"])
    path = tmp_path_factory.mktemp("mmdet") / "ssdlite_mmdet.pth"
    torch.save(dict(meta=dict(mmdet_version="3.3.0"), state_dict=state_dict), path)
    return str(path)


def as_arrays(detections: dict) -> dict[str, np.ndarray]:
    return {
        key: np.asarray(value, dtype=np.int64 if key == "labels" else np.float32)
        for key, value in detections.items()
    }


def assert_same_detections(expected: dict, sample) -> None:
    """Equal counts; after pairing, equal labels, scores within 1e-4 and boxes within 2e-3 px.

    Against mmdet itself, on the machine that made the fixture, boxes agreed within 6.1e-5 px. Another thread
    count or CPU sums the convs in another order (oneDNN picks other kernels): measured up to 8.1e-4 px at one
    thread, hence 1/500 px here; a wrong anchor, coder or candidate rule moves boxes by pixels.
    """
    expected = as_arrays(expected)
    actual = as_arrays(dict(bboxes=sample.pred_bboxes, scores=sample.pred_scores, labels=sample.pred_labels))
    assert len(actual["scores"]) == len(expected["scores"])
    rows, cols = match_detections(expected, actual)
    np.testing.assert_array_equal(actual["labels"][cols], expected["labels"][rows])
    np.testing.assert_allclose(actual["scores"][cols], expected["scores"][rows], rtol=0, atol=1e-4)
    np.testing.assert_allclose(actual["bboxes"][cols], expected["bboxes"][rows], rtol=0, atol=2e-3)


def test_detections_equal_mmdetection(reference, mmdet_checkpoint):
    """The fixture holds mmdet 3.3.0's detections on three photos (dev/mmdet_ssdlite_fixture.py);
    visionkit, from the same checkpoint file, gives the same boxes, scores and labels within 1e-4."""
    model = init_model(CONFIG, mmdet_checkpoint)
    samples = inference_model(model, [photo(name) for name in PHOTOS])
    for name, sample in zip(PHOTOS, samples, strict=True):
        expected = reference["photos"][name]
        # NMS had real work: max_per_img binds, and many classes survive.
        assert len(expected["scores"]) == 200 and len(set(expected["labels"])) > 10
        assert_same_detections(expected, sample)
    # The photos give different detections: the model's output depends on its input.
    top = [np.asarray(reference["photos"][name]["bboxes"][:20]) for name in PHOTOS]
    assert np.abs(top[0] - top[1]).max() > 10 and np.abs(top[1] - top[2]).max() > 10


def test_nms_pre_counts_per_level_as_mmdetection(reference, mmdet_checkpoint):
    """At nms_pre 100 the 200 detections need candidates beyond the overall top 100, so counting per level
    (mmdet) and over all levels differ; the fixture's second run is mmdet's."""
    model = init_model(CONFIG, mmdet_checkpoint)
    model.head.test_cfg = dataclasses.replace(model.head.test_cfg, nms_pre=reference["small_nms_pre"])
    for name, expected in reference["photos_small_nms_pre"].items():
        assert_same_detections(expected, inference_model(model, photo(name))[0])


def test_every_mmdet_key_has_a_visionkit_name(reference):
    """Each of mmdet's 480 keys maps to one of the model's keys, and every model key is hit once."""
    model = init_model(CONFIG)
    renamed = []
    for key, _ in reference["key_shapes"]:
        if key.startswith("backbone."):
            new = mmdet_to_visionkit_backbone_key(key[len("backbone.") :], [1, 2, 3, 4, 3, 3, 1])
            renamed.append(None if new is None else "backbone." + new)
        else:
            renamed.append(mmdet_to_visionkit_ssd_key(key))
    assert None not in renamed
    assert sorted(renamed) == sorted(model.state_dict())


def test_key_renames_by_hand():
    repeats = [1, 2, 3, 4, 3, 3, 1]
    assert mmdet_to_visionkit_backbone_key("conv1.bn.running_var", repeats) == "stem.bn.running_var"
    assert mmdet_to_visionkit_backbone_key("layer1.0.depthwise_conv.conv.weight", repeats) == (
        "blocks.0.depthwise.conv.weight"
    )
    # stage 5 (96 channels), its third block: 1 + 2 + 3 + 4 blocks before it, + 2
    assert mmdet_to_visionkit_backbone_key("layer5.2.linear_conv.bn.bias", repeats) == (
        "blocks.12.project.bn.bias"
    )
    assert mmdet_to_visionkit_backbone_key("conv2.conv.weight", repeats) == "final_conv.conv.weight"
    assert mmdet_to_visionkit_backbone_key("stem.conv.weight", repeats) is None
    assert mmdet_to_visionkit_ssd_key("neck.extra_layers.3.1.pointwise_conv.bn.weight") == (
        "neck.blocks.3.2.bn.weight"
    )
    assert mmdet_to_visionkit_ssd_key("neck.extra_layers.0.1.depthwise_conv.conv.weight") == (
        "neck.blocks.0.1.conv.weight"
    )
    assert mmdet_to_visionkit_ssd_key("bbox_head.reg_convs.5.1.bias") == "head.reg_convs.5.1.bias"
    assert mmdet_to_visionkit_ssd_key("neck.blocks.0.0.conv.weight") is None


def test_bare_mmdet_state_dict_loads(reference, mmdet_checkpoint, tmp_path):
    """Without mmengine's wrapping, the same weights give the same model."""
    wrapped = init_model(CONFIG, mmdet_checkpoint)
    bare = tmp_path / "bare.pth"
    torch.save(torch.load(mmdet_checkpoint)["state_dict"], bare)
    model = init_model(CONFIG, str(bare))
    for key, value in wrapped.state_dict().items():
        torch.testing.assert_close(model.state_dict()[key], value, rtol=0, atol=0)


def test_nms_pre_per_level_keeps_the_top_of_each_level():
    # 2 classes; level 0 has anchors 0..2, level 1 anchors 3..4
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.7], [0.6, 0.05], [0.3, 0.2], [0.01, 0.4]])
    anchors, labels, top = top_candidates(scores, 0.02, 2, [3, 2])
    assert anchors.tolist() == [0, 1, 4, 3] and labels.tolist() == [0, 0, 1, 0]
    assert top.tolist() == pytest.approx([0.9, 0.8, 0.4, 0.3])
    anchors, _, top = top_candidates(scores, 0.02, 2)  # over all levels together
    assert anchors.tolist() == [0, 1] and top.tolist() == pytest.approx([0.9, 0.8])


def test_min_size_drops_empty_boxes_before_nms():
    """A box clipped to zero width would survive NMS (IoU 0 with everything) unless dropped."""
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 5.0, 0.0, 9.0], [1.0, 1.0, 10.0, 10.0]])
    scores = torch.tensor([[0.9], [0.8], [0.7]])
    kept, _, _ = multiclass_nms(boxes, scores, 0.02, 10, 0.45, 10, min_size=(0.0, 0.0))
    assert kept.tolist() == [[0.0, 0.0, 10.0, 10.0]]
    kept, _, _ = multiclass_nms(boxes, scores, 0.02, 10, 0.45, 10)
    assert len(kept) == 2


def test_clamp_shrink_bounds_a_shrinking_box_as_mmdet():
    """mmdet's delta2bbox clamps dw to +-log(1000/16): a box never shrinks below 16/1000 of its anchor."""
    anchor = torch.tensor([[0.0, 0.0, 100.0, 100.0]])
    deltas = torch.tensor([[0.0, 0.0, -50.0, 0.0]])  # dw * 0.2 = -10, far below -log(62.5)
    box = decode_boxes(deltas, anchor, clamp_shrink=True)
    assert (box[0, 2] - box[0, 0]).item() == pytest.approx(100 * 16 / 1000)
    box = decode_boxes(deltas, anchor)
    assert (box[0, 2] - box[0, 0]).item() == pytest.approx(100 * math.exp(-10), rel=1e-3)


def test_config_clips_boxes_to_the_image(reference, mmdet_checkpoint):
    """Boxes come back inside each photo (clipped at 320x320 before NMS, then scaled)."""
    model = init_model(CONFIG, mmdet_checkpoint)
    image = photo("coffee")
    boxes = inference_model(model, image)[0].pred_bboxes
    height, width = image.shape[:2]
    assert boxes.min() >= 0 and boxes[:, 2].max() <= width and boxes[:, 3].max() <= height
    assert (boxes[:, 2].max() - width).abs() < 1e-3  # some box reaches the border: clipping acted


def test_pretrained_backbone_from_an_mmdet_detector_checkpoint(reference, mmdet_checkpoint):
    """``init_cfg=dict(type='Pretrained', prefix='backbone.')`` takes the backbone out of mmdet's file."""
    from visionkit.models import MobileNetV2

    backbone = MobileNetV2(
        out_taps=("layer14", "final"),
        bn_eps=1e-3,
        init_cfg=dict(type="Pretrained", checkpoint=mmdet_checkpoint, prefix="backbone."),
    )
    backbone.init_weights()
    state_dict = torch.load(mmdet_checkpoint)["state_dict"]
    torch.testing.assert_close(backbone.stem.conv.weight, state_dict["backbone.conv1.conv.weight"])
    torch.testing.assert_close(
        backbone.blocks[12].project.bn.running_var, state_dict["backbone.layer5.2.linear_conv.bn.running_var"]
    )
    torch.testing.assert_close(backbone.final_conv.bn.bias, state_dict["backbone.conv2.bn.bias"])


def test_partial_load_into_other_classes_skips_only_the_class_convs(mmdet_checkpoint):
    """Fine-tuning: mmdet's COCO file into a 3-class model loads all but the six class-score convs, which
    are reported under visionkit's names (the keys are renamed before shapes are compared)."""
    from visionkit.models.checkpoint import load_state_dict_partial

    model = init_model(CONFIG, cfg_options={"model.head.num_classes": 3})
    state_dict = torch.load(mmdet_checkpoint)["state_dict"]
    skipped = load_state_dict_partial(model, state_dict, "mmdet")
    assert skipped["missing"] == [] and skipped["unexpected"] == []
    assert sorted(s.split()[0] for s in skipped["shape_mismatch"]) == sorted(
        f"head.cls_convs.{level}.1.{name}" for level in range(6) for name in ("weight", "bias")
    )
    torch.testing.assert_close(model.head.reg_convs[5][1].bias, state_dict["bbox_head.reg_convs.5.1.bias"])
    assert "bbox_head.cls_convs.0.1.weight" in state_dict  # the caller's dict is left as it was
