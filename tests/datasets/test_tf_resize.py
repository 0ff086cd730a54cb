"""TF 1's bilinear resize (``TFResize``), hand-checked; TensorFlow's own output is compared in
``tests/models/test_tf_checkpoints.py`` (the fixtures' network inputs)."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.datasets.transforms import Albumentations, tf_resize_bilinear


def test_upsampling_samples_at_i_times_in_over_out():
    row = np.array([[0.0, 10.0, 20.0, 30.0]], dtype=np.float32)
    # positions 0, 0.5, 1, ... 3.5 (TF 1); OpenCV's half-pixel centres would give 0, 2.5, 7.5, ...
    expected = [0, 5, 10, 15, 20, 25, 30, 30]
    np.testing.assert_array_equal(tf_resize_bilinear(row, (1, 8)), [expected])
    np.testing.assert_array_equal(
        tf_resize_bilinear(row, (1, 7), align_corners=True), [[0, 5, 10, 15, 20, 25, 30]]
    )


def test_downsampling_and_both_axes_in_float():
    image = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
    out = tf_resize_bilinear(image, (3, 2))  # rows at 0, 4/3, 8/3; columns at 0, 2
    assert out.dtype == np.float32
    rows = np.array([0, 4 / 3, 8 / 3])
    np.testing.assert_allclose(out, (rows[:, None] * 4 + np.array([0, 2])[None]) * 16, rtol=1e-6)
    assert not np.allclose(out, np.round(out))  # not rounded to integers as a uint8 resize is


def test_transform_keeps_boxes_with_the_image():
    pipeline = Albumentations([dict(type="TFResize", height=30, width=40)])
    image = np.random.default_rng(0).integers(0, 256, (60, 20, 3), dtype=np.uint8)
    results = pipeline(dict(img=image, gt_bboxes=np.array([[2.0, 6, 10, 30]]), gt_labels=np.array([1])))
    assert results["img"].shape == (30, 40, 3) and results["img"].dtype == np.float32
    np.testing.assert_allclose(results["gt_bboxes"], [[4.0, 3, 20, 15]], rtol=1e-5)
    np.testing.assert_allclose(results["img"], tf_resize_bilinear(image, (30, 40)))


@pytest.mark.parametrize("size", [(300, 300), (224, 224)])
def test_shapes_for_the_release_configs(size):
    assert tf_resize_bilinear(np.zeros((480, 640, 3), np.uint8), size).shape == (*size, 3)
