"""SSD anchors: counts and sizes per level, checked by hand for the TF, mmdet and torchvision settings."""

import math

import pytest
import torch

from visionkit.models.box_ops import (
    MMDetSSDAnchorGenerator,
    TFSSDAnchorGenerator,
    mmdet_ssd_anchors,
    tf_box_specs,
    tf_ssd_anchors,
    torchvision_ssd_anchors,
)
from visionkit.registry import TASK_UTILS

FEATURE_SIZES = [(20, 20), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)]


def widths_heights(boxes):
    return boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]


def test_tf_counts_for_320():
    anchors, per_level = tf_ssd_anchors((320, 320), FEATURE_SIZES)
    assert per_level == [20 * 20 * 3, 100 * 6, 25 * 6, 9 * 6, 4 * 6, 1 * 6]
    assert anchors.shape == (2034, 4)


def test_tf_scales_are_linear_from_0_2_to_0_95():
    specs = tf_box_specs(6)
    assert [len(level) for level in specs] == [3, 6, 6, 6, 6, 6]
    assert specs[0] == [(0.1, 1.0), (0.2, 2.0), (0.2, 0.5)]
    assert specs[1][0] == pytest.approx((0.35, 1.0))  # 0.2 + 0.75 / 5
    assert specs[5][0] == pytest.approx((0.95, 1.0))
    assert specs[5][-1] == pytest.approx((math.sqrt(0.95 * 1.0), 1.0))  # s_6 = 1
    assert [r for _, r in specs[1][:5]] == pytest.approx([1.0, 2.0, 0.5, 3.0, 1.0 / 3.0])


def test_tf_lowest_level_boxes_at_the_first_location():
    anchors, _ = tf_ssd_anchors((320, 320), FEATURE_SIZES)
    side = 0.2 * 320 * math.sqrt(2)  # scale 0.2, width / height = 2
    expected = torch.tensor(
        [
            [8 - 16, 8 - 16, 8 + 16, 8 + 16],  # scale 0.1: 32 px square, centre (0.5 / 20) * 320 = 8
            [8 - side / 2, 8 - side / 4, 8 + side / 2, 8 + side / 4],
            [8 - side / 4, 8 - side / 2, 8 + side / 4, 8 + side / 2],
        ]
    )
    torch.testing.assert_close(anchors[:3], expected)
    # the next location is one column to the right: x centre 24
    torch.testing.assert_close(anchors[3], torch.tensor([8.0, -8.0, 40.0, 24.0]))


def test_tf_second_level_and_last_level():
    anchors, per_level = tf_ssd_anchors((320, 320), FEATURE_SIZES)
    level1 = anchors[per_level[0] : per_level[0] + 6]
    w, h = widths_heights(level1)
    assert w[0] == pytest.approx(0.35 * 320) and h[0] == pytest.approx(0.35 * 320)
    assert w[-1] == pytest.approx(math.sqrt(0.35 * 0.5) * 320, rel=1e-5)  # sqrt(s_1 * s_2)
    assert (w[1] / h[1]).item() == pytest.approx(2.0, rel=1e-5)
    torch.testing.assert_close((level1[0, :2] + level1[0, 2:]) / 2, torch.tensor([16.0, 16.0]))
    last = anchors[-6:]
    torch.testing.assert_close((last[:, :2] + last[:, 2:]) / 2, torch.full((6, 2), 160.0))
    w, _ = widths_heights(last)
    assert w[0] == pytest.approx(0.95 * 320) and w[-1] == pytest.approx(math.sqrt(0.95) * 320)


def test_tf_non_square_input_keeps_boxes_square_in_pixels():
    anchors, _ = tf_ssd_anchors((320, 480), [(20, 30), (10, 15), (5, 8), (3, 4), (2, 2), (1, 1)])
    w, h = widths_heights(anchors[:1])
    assert w.item() == pytest.approx(32.0) and h.item() == pytest.approx(32.0)  # 0.1 x the shorter side
    torch.testing.assert_close((anchors[0, :2] + anchors[0, 2:]) / 2, torch.tensor([8.0, 8.0]))


def test_mmdet_counts_sizes_and_centres():
    anchors, per_level = mmdet_ssd_anchors(FEATURE_SIZES)
    assert per_level == [6 * h * w for h, w in FEATURE_SIZES]
    assert anchors.shape == (3234, 4)  # 6 x (400 + 100 + 25 + 9 + 4 + 1) locations
    w, h = widths_heights(anchors[:6])
    r2, r3 = math.sqrt(2), math.sqrt(3)
    # min 48 square, sqrt(48 * 100) square, then min 48 with height/width 1/2, 2, 1/3, 3 (mmdet 3.3.0's order)
    expected_w = [48, math.sqrt(4800), 48 * r2, 48 / r2, 48 * r3, 48 / r3]
    expected_h = [48, math.sqrt(4800), 48 / r2, 48 * r2, 48 / r3, 48 * r3]
    assert w.tolist() == pytest.approx(expected_w, rel=1e-5)
    assert h.tolist() == pytest.approx(expected_h, rel=1e-5)
    torch.testing.assert_close((anchors[:6, :2] + anchors[:6, 2:]) / 2, torch.full((6, 2), 8.0))
    start = sum(per_level[:3])
    level3 = anchors[start : start + per_level[3]]
    centres_x = ((level3[:, 0] + level3[:, 2]) / 2).round(decimals=3).unique()
    assert centres_x.tolist() == pytest.approx([53.5, 160.5, 267.5])  # j * 107 + 107 / 2
    w, _ = widths_heights(anchors[-5:-4])
    assert w.item() == pytest.approx(math.sqrt(304 * 320))


def test_generators_are_registered_and_cached():
    tf = TASK_UTILS.build(dict(type="TFSSDAnchorGenerator"))
    mmdet = TASK_UTILS.build(dict(type="MMDetSSDAnchorGenerator"))
    assert tf.num_anchors_per_location == [3, 6, 6, 6, 6, 6]
    assert mmdet.num_anchors_per_location == [6] * 6
    first, per_level = tf((320, 320), FEATURE_SIZES)
    assert sum(per_level) == 2034 and tf((320, 320), FEATURE_SIZES)[0] is first
    assert len(mmdet((320, 320), FEATURE_SIZES)[0]) == 3234


def test_generators_refuse_settings_of_another_and_feature_maps_they_lack():
    with pytest.raises(TypeError, match="min_sizes"):
        TASK_UTILS.build(dict(type="TFSSDAnchorGenerator", min_sizes=(1, 2, 3, 4, 5, 6)))
    with pytest.raises(KeyError, match=r"Unknown type 'SSDAnchorGenerator'.*TFSSDAnchorGenerator"):
        TASK_UTILS.build(dict(type="SSDAnchorGenerator", style="tf"))
    with pytest.raises(ValueError, match="TFSSDAnchorGenerator has 6 levels but got 2"):
        TFSSDAnchorGenerator()((320, 320), FEATURE_SIZES[:2])
    with pytest.raises(ValueError, match="3 strides but sizes for 6 levels"):
        MMDetSSDAnchorGenerator(strides=(16, 32, 64))


def test_mmdet_square_sizes_of_every_level():
    """mmdet's min sizes (48, 100, 150, 202, 253, 304) and max sizes (100, 150, 202, 253, 304, 320): the
    first anchor of each level is min x min, the second sqrt(min * max) square; also through the generator."""
    mins, maxs = (48, 100, 150, 202, 253, 304), (100, 150, 202, 253, 304, 320)
    for anchors in (
        mmdet_ssd_anchors(FEATURE_SIZES)[0],
        MMDetSSDAnchorGenerator()((320, 320), FEATURE_SIZES)[0],
    ):
        starts = [0]
        for h, w in FEATURE_SIZES[:-1]:
            starts.append(starts[-1] + 6 * h * w)
        for start, low, high in zip(starts, mins, maxs, strict=True):
            w, h = widths_heights(anchors[start : start + 6])
            assert (w[0].item(), h[0].item()) == pytest.approx((low, low), rel=1e-5)
            assert (w[1].item(), h[1].item()) == pytest.approx((math.sqrt(low * high),) * 2, rel=1e-5)


def test_generator_defaults_are_tf_settings():
    """TF ssdlite_mobilenet_v2_coco: scales 0.2 .. 0.95, ratios {1, 2, 1/2, 3, 1/3}, interpolated at 1."""
    settings = TFSSDAnchorGenerator().settings
    assert (settings["min_scale"], settings["max_scale"]) == (0.2, 0.95)
    assert settings["aspect_ratios"] == pytest.approx((1.0, 2.0, 0.5, 3.0, 1 / 3))
    assert settings["interpolated_scale_aspect_ratio"] == 1.0


def test_torchvision_generator_equals_default_box_generator():
    """ssdlite320_mobilenet_v3_large's DefaultBoxGenerator([[2, 3]] * 6, 0.2, 0.95): the same anchors in the
    same order, bit for bit, on a square and a non-square input."""
    from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
    from torchvision.models.detection.image_list import ImageList

    reference = DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95)
    generator = TASK_UTILS.build(dict(type="TorchvisionSSDAnchorGenerator"))
    assert generator.num_anchors_per_location == [6] * 6
    for size, feature_sizes in [
        ((320, 320), FEATURE_SIZES),
        ((320, 480), [(20, 30), (10, 15), (5, 8), (3, 4), (2, 2), (1, 1)]),
    ]:
        maps = [torch.zeros(1, 1, *s) for s in feature_sizes]
        expected = reference(ImageList(torch.zeros(1, 3, *size), [size]), maps)[0]
        anchors, per_level = generator(size, feature_sizes)
        assert torch.equal(anchors, expected)
        assert per_level == [6 * h * w for h, w in feature_sizes]


def test_torchvision_first_location_by_hand():
    """Level 0 at 320x320: s = 0.2, s' = sqrt(0.2 * 0.35); ratio 2 gives (0.2 sqrt 2, 0.2 / sqrt 2) then
    the swapped pair; centre (0.5 / 20) * 320 = 8. The last level's ratio-3 box (0.95 sqrt 3 > 1) is
    clipped to 1."""
    anchors, _ = torchvision_ssd_anchors((320, 320), FEATURE_SIZES)
    w, h = widths_heights(anchors[:6])
    s, s_prime = 0.2 * 320, math.sqrt(0.2 * 0.35) * 320
    r2, r3 = math.sqrt(2), math.sqrt(3)
    assert w.tolist() == pytest.approx([s, s_prime, s * r2, s / r2, s * r3, s / r3], rel=1e-5)
    assert h.tolist() == pytest.approx([s, s_prime, s / r2, s * r2, s / r3, s * r3], rel=1e-5)
    assert ((anchors[:6, 0] + anchors[:6, 2]) / 2).tolist() == pytest.approx([8.0] * 6)
    w, h = widths_heights(anchors[-6:])
    assert (w[4].item(), h[4].item()) == pytest.approx((320, 0.95 / r3 * 320), rel=1e-5)
