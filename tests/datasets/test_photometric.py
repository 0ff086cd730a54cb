"""PhotoMetricDistortion equals mmdetection's transform step by step; InceptionColorDistortion equals
TF-slim's distort_color (fast mode); both checked on photos and against colorsys per pixel."""

import colorsys

import cv2
import numpy as np
import pytest
import skimage.data

from visionkit.datasets.transforms import Albumentations, InceptionColorDistortion, PhotoMetricDistortion
from visionkit.datasets.transforms.photometric import adjust_hsv, tf_adjust_saturation


def photo() -> np.ndarray:
    return cv2.resize(skimage.data.astronaut(), (64, 48), interpolation=cv2.INTER_AREA)


def mmdet_photometric(bgr: np.ndarray, mode, brightness, contrast, saturation, hue) -> np.ndarray:
    """mmdetection 3.x PhotoMetricDistortion.transform with its flags given (mmcv's bgr2hsv / hsv2bgr are
    cv2.cvtColor BGR<->HSV), on a BGR image as mmdetection loads it; no channel swap."""
    img = bgr.astype(np.float32)
    if brightness is not None:
        img += brightness
    if mode == 1 and contrast is not None:
        img *= contrast
    img = cv2.cvtColor(img, cv2.COLOR_BGR2HSV)
    if saturation is not None:
        img[..., 1] *= saturation
        if saturation > 1:
            img[..., 1] = img[..., 1].clip(0, 1)
    if hue is not None:
        img[..., 0] += hue
        img[..., 0][img[..., 0] > 360] -= 360
        img[..., 0][img[..., 0] < 0] += 360
    img = cv2.cvtColor(img, cv2.COLOR_HSV2BGR)
    if mode == 0 and contrast is not None:
        img *= contrast
    return img


@pytest.mark.parametrize(
    "mode, brightness, contrast, saturation, hue",
    [
        (0, 20.0, 1.3, 1.4, 10.0),
        (1, -25.0, 0.6, 0.7, -15.0),
        (0, None, None, 1.2, None),
        (1, 5.0, 1.4, None, 17.0),
    ],
)
def test_photometric_distortion_equals_mmdetections(mode, brightness, contrast, saturation, hue) -> None:
    rgb = photo()
    transform = PhotoMetricDistortion()
    ours = transform.apply(
        rgb,
        contrast_last=mode == 0,
        brightness=brightness,
        contrast=contrast,
        saturation=saturation,
        hue=hue,
        swap=None,
    )
    expected = mmdet_photometric(rgb[..., ::-1], mode, brightness, contrast, saturation, hue)[..., ::-1]
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, expected, atol=1e-3)
    assert np.abs(ours - rgb).mean() > 5  # it did change the image


def test_channel_swap_permutes_channels() -> None:
    rgb = photo()
    plain = PhotoMetricDistortion().apply(rgb, True, None, None, None, None, swap=None)
    swapped = PhotoMetricDistortion().apply(rgb, True, None, None, None, None, swap=np.array([2, 0, 1]))
    np.testing.assert_array_equal(swapped, plain[..., [2, 0, 1]])


def test_each_part_happens_half_of_the_time_in_its_range() -> None:
    transform = PhotoMetricDistortion()
    transform.set_random_seed(0)
    draws = [transform.get_params() for _ in range(4000)]
    for key in ("brightness", "contrast", "saturation", "hue", "swap"):
        assert 0.46 < np.mean([d[key] is not None for d in draws]) < 0.54, key
    assert 0.46 < np.mean([d["contrast_last"] for d in draws]) < 0.54
    brightness = [d["brightness"] for d in draws if d["brightness"] is not None]
    hue = [d["hue"] for d in draws if d["hue"] is not None]
    assert -32 <= min(brightness) < -30 and 30 < max(brightness) <= 32
    assert -18 <= min(hue) < -17 and 17 < max(hue) <= 18
    contrast = [d["contrast"] for d in draws if d["contrast"] is not None]
    assert 0.5 <= min(contrast) < 0.52 and 1.48 < max(contrast) <= 1.5


def test_hsv_steps_match_colorsys_on_one_pixel() -> None:
    """Saturation x0.5 and hue +30 degrees of RGB (200, 100, 50), against Python's colorsys."""
    pixel = np.array([[[200, 100, 50]]], dtype=np.float32)
    h, s, v = colorsys.rgb_to_hsv(*(pixel[0, 0] / 255))
    expected = np.array(colorsys.hsv_to_rgb((h + 30 / 360) % 1, s * 0.5, v)) * 255
    np.testing.assert_allclose(adjust_hsv(pixel, saturation=0.5, hue=30.0)[0, 0], expected, atol=1e-3)


def test_inception_color_distortion_is_tf_slims_fast_mode() -> None:
    """Brightness +16 (of 255) then saturation x1.5, clipped to [0, 255]: per pixel with colorsys, as
    tf.image.random_brightness then adjust_saturation (S clipped to [0, 1]) on [0, 1] floats."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(20, 200, size=(4, 5, 3)).astype(np.uint8)
    ours = InceptionColorDistortion().apply(rgb, brightness_first=True, delta=16.0, saturation=1.5)
    for y, x in np.ndindex(4, 5):
        h, s, v = colorsys.rgb_to_hsv(*((rgb[y, x] + 16.0) / 255))
        expected = np.clip(np.array(colorsys.hsv_to_rgb(h, min(s * 1.5, 1.0), v)), 0, 1) * 255
        np.testing.assert_allclose(ours[y, x], expected, atol=1e-3)
    saturation_first = InceptionColorDistortion().apply(
        rgb, brightness_first=False, delta=16.0, saturation=1.5
    )
    np.testing.assert_allclose(
        saturation_first, (tf_adjust_saturation(rgb.astype(np.float32), 1.5) + 16).clip(0, 255)
    )


def test_inception_color_distortion_ranges_and_clip() -> None:
    transform = InceptionColorDistortion()
    transform.set_random_seed(1)
    draws = [transform.get_params() for _ in range(2000)]
    assert all(d["brightness_first"] for d in draws)  # fast mode in today's TF-slim: one ordering
    assert -32 <= min(d["delta"] for d in draws) < -31 and 31 < max(d["delta"] for d in draws) <= 32
    assert 0.5 <= min(d["saturation"] for d in draws) < 0.51
    old = InceptionColorDistortion(num_orderings=4)
    old.set_random_seed(1)
    assert 0.2 < np.mean([old.get_params()["brightness_first"] for _ in range(2000)]) < 0.3
    out = Albumentations([dict(type="InceptionColorDistortion")])({"img": np.full((8, 8, 3), 250, np.uint8)})
    assert out["img"].dtype == np.float32 and out["img"].max() <= 255 and out["img"].min() >= 0
