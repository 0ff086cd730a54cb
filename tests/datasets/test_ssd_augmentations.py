"""ZoomOut and MinIoURandomCrop move boxes (and masks) exactly with the image."""

import numpy as np
import pytest

from visionkit.datasets.transforms import Albumentations, MinIoURandomCrop, ZoomOut
from visionkit.datasets.transforms.ssd_augmentations import box_iou_with

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


@pytest.mark.parametrize("seed", range(12))
def test_min_iou_crop_moves_boxes_with_image(seed: int) -> None:
    wrapper = Albumentations([dict(type="MinIoURandomCrop")])
    wrapper.pipeline.set_random_seed(seed)
    check_boxes_follow_image(wrapper(scene()))


def test_min_iou_crop_keeps_boxes_with_centre_inside() -> None:
    wrapper = Albumentations([dict(type="MinIoURandomCrop")])
    crop_transform = wrapper.pipeline.transforms[0]
    cropped = 0
    for seed in range(30):
        wrapper.pipeline.set_random_seed(seed)
        results = wrapper(scene())
        x0, y0, x1, y1 = crop_transform.params["crop"]
        if (x1 - x0, y1 - y0) == (160, 120):
            assert len(results["gt_labels"]) == 3
            continue
        cropped += 1
        assert results["img"].shape[:2] == (y1 - y0, x1 - x0)
        assert (x1 - x0) >= 0.3 * 160 - 1 and (y1 - y0) >= 0.3 * 120 - 1
        assert 0.5 <= (y1 - y0) / (x1 - x0) <= 2 + 0.05
        centres = (BOXES[:, :2] + BOXES[:, 2:]) / 2
        inside = np.all((centres > (x0, y0)) & (centres < (x1, y1)), axis=1)
        assert results["gt_labels"].tolist() == np.flatnonzero(inside).tolist()
        assert box_iou_with(BOXES[inside], np.array([x0, y0, x1, y1], dtype=np.float32)).max() >= 0.1
    assert cropped >= 10


def test_without_boxes() -> None:
    image = np.full((30, 40, 3), 7, dtype=np.uint8)
    crop = Albumentations([dict(type="MinIoURandomCrop")])
    results = crop({"img": image, "gt_bboxes": np.zeros((0, 4)), "gt_labels": np.zeros(0)})
    assert results["img"].shape == image.shape and results["gt_bboxes"].shape == (0, 4)
    zoom = Albumentations([dict(type="ZoomOut", p=1.0)])
    results = zoom({"img": image, "gt_bboxes": np.zeros((0, 4)), "gt_labels": np.zeros(0)})
    assert results["gt_bboxes"].shape == (0, 4) and results["gt_labels"].dtype == np.int64


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="min_ratio"):
        ZoomOut(min_ratio=0.5)
    with pytest.raises(ValueError, match="min_scale"):
        MinIoURandomCrop(min_scale=0)
