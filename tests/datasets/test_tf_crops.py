"""TF's crop sampler (sample_distorted_bounding_box), TF-slim's Inception crop, the OD API's ssd_random_crop
and central_crop, on hand-checked cases."""

import numpy as np
import pytest

from visionkit.datasets.transforms import Albumentations
from visionkit.datasets.transforms.tf_crops import (
    covers_an_object,
    kept_by_overlap,
    random_crop_size,
    sample_distorted_bounding_box,
)


def test_random_crop_size_by_hand() -> None:
    """TF's GenerateRandomCrop for a 100x100 image, aspect 1, area 25%-25%: height sqrt(2500) = 50 both
    ways, width round(50 * 1) = 50. Area 100% of a 100x50 image at aspect 4 cannot fit: None."""
    rng = np.random.default_rng(0)
    assert random_crop_size(100, 100, (0.25, 0.25), 1.0, rng) == (50, 50)
    assert random_crop_size(100, 50, (1.0, 1.0), 4.0, rng) is None


def test_coverage_rule_by_hand() -> None:
    """Box (0,0)-(10,10): the crop (5,0)-(20,10) covers 50 of its 100 px^2 (0.5); the box (30,30)-(40,40)
    none. min_object_covered 0.5 passes, 0.51 fails; a box under 1 px^2 never counts."""
    boxes = np.array([[0, 0, 10, 10], [30, 30, 40, 40]])
    crop = np.array([5, 0, 20, 10])
    assert covers_an_object(crop, boxes, 0.5)
    assert not covers_an_object(crop, boxes, 0.51)
    assert not covers_an_object(crop, np.array([[6, 6, 6, 9]]), 0.0)


def test_sampler_respects_area_aspect_and_coverage() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        x0, y0, x1, y1 = sample_distorted_bounding_box(
            640, 480, np.zeros((0, 4)), 0.1, (0.75, 1.33), (0.05, 1.0), 100, rng
        )
        w, h = x1 - x0, y1 - y0
        assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 480
        assert 0.1 * 640 * 480 <= w * h <= 640 * 480  # min_object_covered 0.1 of the whole-image box
        assert 0.75 - 0.02 <= w / h <= 1.33 + 0.02  # rounding of width = round(height * aspect)
        assert x0 < 640 - w or w == 640  # TF's Uniform(n) never reaches n


def test_sampler_falls_back_to_the_whole_image() -> None:
    rng = np.random.default_rng(0)
    crop = sample_distorted_bounding_box(100, 10, np.zeros((0, 4)), 0.1, (0.1, 0.2), (0.9, 1.0), 5, rng)
    assert crop == (0, 0, 100, 10)


def test_kept_by_overlap_by_hand() -> None:
    """Crop (0,0)-(50,50). Box A (40,0)-(60,10): half inside (IoA 0.5); B (50,0)-(60,10) touches the edge
    (wholly outside); C (10,10)-(20,20) inside. Threshold 0.5 keeps A and C, 0.6 only C."""
    boxes = np.array([[40, 0, 60, 10], [50, 0, 60, 10], [10, 10, 20, 20]], dtype=np.float64)
    crop = np.array([0, 0, 50, 50])
    assert kept_by_overlap(boxes, crop, 0.5).tolist() == [True, False, True]
    assert kept_by_overlap(boxes, crop, 0.6).tolist() == [False, False, True]
    assert kept_by_overlap(boxes, crop, 0.0).tolist() == [True, False, True]


def test_ssd_random_crop_keeps_boxes_by_overlap_and_clips_them() -> None:
    boxes = np.array([[20, 10, 70, 60], [90, 40, 150, 110], [5, 80, 30, 115]], dtype=np.float32)
    wrapper = Albumentations([dict(type="SSDRandomCrop")])
    transform = wrapper.pipeline.transforms[0]
    whole = cropped = 0
    for seed in range(60):
        wrapper.pipeline.set_random_seed(seed)
        results = wrapper(
            {"img": np.zeros((120, 160, 3), np.uint8), "gt_bboxes": boxes.copy(), "gt_labels": np.arange(3)}
        )
        x0, y0, x1, y1 = transform.params["crop"]
        if (x1 - x0, y1 - y0) == (160, 120):
            whole += 1
            continue
        cropped += 1
        assert results["img"].shape[:2] == (y1 - y0, x1 - x0)
        assert (x1 - x0) * (y1 - y0) >= 0.1 * 160 * 120 - 1
        assert set(results["gt_labels"].tolist()) <= set(np.flatnonzero(transform.params["keep"]).tolist())
        assert (results["gt_bboxes"][:, 2:] <= [x1 - x0, y1 - y0]).all() and (results["gt_bboxes"] >= 0).all()
    assert whole >= 3 and cropped >= 30  # 15% of calls stay whole (random_coef), more when no crop is found


@pytest.mark.parametrize("height, width", [(480, 640), (375, 500), (7, 9)])
def test_central_crop_is_tfs(height: int, width: int) -> None:
    """tf.image.central_crop(0.875): start = int((size - size * 0.875) / 2), size - 2 * start kept."""
    image = np.arange(height * width * 3, dtype=np.uint8).reshape(height, width, 3)
    out = Albumentations([dict(type="CentralCrop", fraction=0.875)])({"img": image})["img"]
    top, left = int((height - height * 0.875) / 2), int((width - width * 0.875) / 2)
    np.testing.assert_array_equal(out, image[top : height - top, left : width - left])


def test_distorted_bounding_box_crop_in_a_pipeline() -> None:
    out = Albumentations([dict(type="DistortedBoundingBoxCrop"), dict(type="Resize", height=32, width=32)])(
        {"img": np.zeros((120, 160, 3), np.uint8)}
    )
    assert out["img"].shape == (32, 32, 3)
