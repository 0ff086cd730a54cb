"""ZoomOut, MinIoURandomCrop (mmdetection's) and RandomIoUCrop (torchvision's) move boxes (and masks) exactly
with the image, and accept crops by their own rules."""

import numpy as np
import pytest

from visionkit.datasets.transforms import Albumentations, MinIoURandomCrop, RandomIoUCrop, ZoomOut
from visionkit.datasets.transforms.ssd_augmentations import accepted_boxes, box_iou_with, centres_inside

COLOURS = ((255, 0, 0), (0, 255, 0), (0, 0, 255))  # one per label, absent from background and fill
BOXES = np.array([[20, 10, 70, 60], [90, 40, 150, 110], [5, 80, 30, 115]], dtype=np.float32)


def scene() -> dict:
    """A 120x160 image with each box filled in its label's colour; the mask marks box 0 with 1."""
    image = np.full((120, 160, 3), 40, dtype=np.uint8)
    mask = np.zeros((120, 160), dtype=np.uint8)
    for (x0, y0, x1, y1), colour in zip(BOXES.astype(int), COLOURS, strict=True):
        image[y0:y1, x0:x1] = colour
    x0, y0, x1, y1 = BOXES[0].astype(int)
    mask[y0:y1, x0:x1] = 1
    return {"img": image, "gt_seg_map": mask, "gt_bboxes": BOXES.copy(), "gt_labels": np.arange(3)}


def bounding_rect(where: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(where)
    return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float32)


def check_boxes_follow_image(results: dict) -> None:
    assert results["gt_labels"].dtype == np.int64
    assert len(results["gt_bboxes"]) == len(results["gt_labels"])
    for box, label in zip(results["gt_bboxes"], results["gt_labels"], strict=True):
        painted = (results["img"] == COLOURS[label]).all(axis=-1)
        np.testing.assert_allclose(box, bounding_rect(painted), atol=1)
        if label == 0:
            np.testing.assert_allclose(box, bounding_rect(results["gt_seg_map"] == 1), atol=1)


@pytest.mark.parametrize("seed", range(8))
def test_zoom_out_moves_boxes_with_image(seed: int) -> None:
    fill = (123, 116, 103)
    wrapper = Albumentations([dict(type="ZoomOut", fill=fill, fill_mask=255, max_ratio=4.0, p=1.0)])
    wrapper.pipeline.set_random_seed(seed)
    results = wrapper(scene())
    height, width = results["img"].shape[:2]
    assert 120 <= height <= 480 and 160 <= width <= 640
    assert len(results["gt_labels"]) == 3
    check_boxes_follow_image(results)
    canvas = results["gt_seg_map"] == 255
    assert (results["img"][canvas] == fill).all()
    assert canvas.sum() == height * width - 120 * 160


@pytest.mark.parametrize("crop", ["MinIoURandomCrop", "RandomIoUCrop"])
@pytest.mark.parametrize("seed", range(8))
def test_crops_move_boxes_with_image(crop: str, seed: int) -> None:
    wrapper = Albumentations([dict(type=crop)])
    wrapper.pipeline.set_random_seed(seed)
    check_boxes_follow_image(wrapper(scene()))


def crops_made(
    transform_cfg: dict, results: dict, modes: tuple | None = None, seeds: int = 40
) -> list[tuple]:
    """(crop, kept labels) of the runs that cropped, with ``modes`` forced on MinIoURandomCrop."""
    wrapper = Albumentations([transform_cfg])
    transform = wrapper.pipeline.transforms[0]
    if modes is not None:
        transform.modes = modes
    height, width = results["img"].shape[:2]
    made = []
    for seed in range(seeds):
        wrapper.pipeline.set_random_seed(seed)
        out = wrapper({k: v.copy() for k, v in results.items()})
        x0, y0, x1, y1 = transform.params["crop"]
        assert out["img"].shape[:2] == (y1 - y0, x1 - x0)
        if (x1 - x0, y1 - y0) != (width, height):
            made.append((np.array([x0, y0, x1, y1], dtype=np.float32), out["gt_labels"]))
    return made


def test_min_iou_crop_needs_every_box_above_the_drawn_iou() -> None:
    """mmdetection's rule: with the threshold forced to 0.3, every crop made overlaps both boxes by IoU >= 0.3
    (not just one of them), and keeps exactly the boxes whose centre lies inside."""
    boxes = np.array([[40, 30, 80, 70], [70, 40, 110, 80]], dtype=np.float32)
    two = {"img": np.zeros((120, 160, 3), np.uint8), "gt_bboxes": boxes, "gt_labels": np.arange(2)}
    made = crops_made(dict(type="MinIoURandomCrop"), two, modes=(0.3,))
    assert len(made) == 40
    for patch, labels in made:
        assert box_iou_with(boxes, patch).min() >= 0.3
        assert labels.tolist() == np.flatnonzero(centres_inside(boxes, patch)).tolist()
        assert 0.5 <= (patch[3] - patch[1]) / (patch[2] - patch[0]) <= 2
    made_any = crops_made(dict(type="RandomIoUCrop", options=(0.3,)), two)
    assert any(box_iou_with(boxes, patch).min() < 0.3 for patch, _ in made_any)  # the rules differ


def test_min_iou_crop_mode_zero_is_unconstrained() -> None:
    """Mode 0 (mmdetection's "no IoU limit"): crops far below 0.1 IoU with some box happen."""
    made = crops_made(dict(type="MinIoURandomCrop"), scene(), modes=(0.0,))
    assert len(made) == 40
    assert min(box_iou_with(BOXES, patch).min() for patch, _ in made) < 0.05


def test_random_iou_crop_needs_one_box_above_the_drawn_iou() -> None:
    """torchvision's rule: one kept box reaches the IoU; crops where another box is far below it happen."""
    made = crops_made(dict(type="RandomIoUCrop", options=(0.5,)), scene(), seeds=30)
    assert len(made) == 30
    for patch, labels in made:
        assert box_iou_with(BOXES[labels], patch).max() >= 0.5
        assert labels.tolist() == np.flatnonzero(centres_inside(BOXES, patch)).tolist()
        assert 0.5 <= (patch[2] - patch[0]) / (patch[3] - patch[1]) <= 2
    assert any(box_iou_with(BOXES, patch).min() < 0.5 for patch, _ in made)


def test_acceptance_against_mmdetections_rule_on_hand_made_boxes() -> None:
    """Boxes A (0,0)-(10,10) and B (20,0)-(30,10). Patch (0,0)-(12,10): IoU(A) = 100 / 120 = 0.833,
    IoU(B) = 0; A's centre (5, 5) inside, B's (25, 5) outside. Patch (0,0)-(30,10): IoU 100 / 300 = 1/3 each,
    both centres inside. mmdetection rejects when any IoU < threshold (``overlaps.min() < min_iou``) or no
    centre is inside; torchvision when no kept box reaches it."""
    boxes = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], dtype=np.float64)
    small, wide = np.array([0, 0, 12, 10.0]), np.array([0, 0, 30, 10.0])
    assert accepted_boxes(boxes, small, 0.5, "all") is None  # B's IoU 0 < 0.5
    assert accepted_boxes(boxes, small, 0.0, "all").tolist() == [True, False]  # mode 0: any patch
    assert accepted_boxes(boxes, small, 0.5, "any").tolist() == [True, False]  # A alone reaches it
    assert accepted_boxes(boxes, wide, 1 / 3, "all").tolist() == [True, True]  # IoU == threshold passes
    assert accepted_boxes(boxes, wide, 0.34, "all") is None
    assert accepted_boxes(boxes, wide, 0.34, "any") is None
    assert accepted_boxes(boxes, np.array([12, 0, 18, 10.0]), 0.0, "all") is None  # no centre inside
    assert accepted_boxes(np.zeros((0, 4)), small, 0.9, "all").tolist() == []  # no boxes: any patch
    with pytest.raises(ValueError, match="rule"):
        accepted_boxes(boxes, small, 0.5, "some")


def test_without_boxes() -> None:
    """mmdetection crops an image without boxes too; torchvision's crop leaves it whole."""
    image = np.full((30, 40, 3), 7, dtype=np.uint8)
    empty = {"gt_bboxes": np.zeros((0, 4)), "gt_labels": np.zeros(0)}
    crop = Albumentations([dict(type="MinIoURandomCrop")])
    shapes = set()
    for seed in range(10):
        crop.pipeline.set_random_seed(seed)
        results = crop({"img": image, **empty})
        shapes.add(results["img"].shape)
        assert results["gt_bboxes"].shape == (0, 4)
    assert len(shapes) > 1
    results = Albumentations([dict(type="RandomIoUCrop")])({"img": image, **empty})
    assert results["img"].shape == image.shape
    zoom = Albumentations([dict(type="ZoomOut", p=1.0)])
    results = zoom({"img": image, **empty})
    assert results["gt_bboxes"].shape == (0, 4) and results["gt_labels"].dtype == np.int64


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="min_ratio"):
        ZoomOut(min_ratio=0.5)
    with pytest.raises(ValueError, match="min_scale"):
        MinIoURandomCrop(min_scale=0)
    with pytest.raises(ValueError, match="min_scale"):
        RandomIoUCrop(min_scale=0.8, max_scale=0.5)
