"""ResizeEdge and RoundedCenterCrop: torchvision's evaluation resize and crop on PIL images (which timm's
evaluation uses), checked on hand-computed sizes and against torchvision's own transforms on photos."""

from __future__ import annotations

import albumentations as A
import numpy as np
import pytest
import torchvision.transforms as T
from PIL import Image
from skimage import data as skimage_data

from visionkit.datasets.transforms import ResizeEdge, RoundedCenterCrop
from visionkit.datasets.transforms.torchvision_eval import edge_resized_size


@pytest.mark.parametrize(
    ("height", "width", "edge", "size"),
    [
        (300, 451, "short", (256, 384)),  # 256 * 451 / 300 = 384.85: truncated, as torchvision does
        (427, 640, "short", (256, 383)),  # 383.70
        (640, 427, "short", (383, 256)),
        (300, 451, "long", (170, 256)),  # 256 * 300 / 451 = 170.29
        (256, 256, "short", (256, 256)),
    ],
)
def test_the_other_side_is_truncated(height, width, edge, size):
    assert edge_resized_size(height, width, 256, edge) == size


def test_the_crop_offset_is_rounded_half_to_even():
    """383 - 224 = 159 columns to lose: torchvision keeps round(79.5) = 80 on the left, albumentations'
    CenterCrop 79."""
    image = np.tile(np.arange(383, dtype=np.float32), (256, 1))[..., None].repeat(3, axis=2)
    crop = A.Compose([RoundedCenterCrop(224, 224)])(image=image)["image"]
    assert crop.shape == (224, 224, 3) and crop[0, 0, 0] == 80 and crop[0, -1, 0] == 303
    assert A.Compose([A.CenterCrop(224, 224)])(image=image)["image"][0, 0, 0] == 79


@pytest.mark.parametrize("name", ["astronaut", "coffee", "chelsea", "rocket"])
@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear"])
def test_equal_to_torchvision_on_photos(name, interpolation):
    image = np.ascontiguousarray(getattr(skimage_data, name)()[..., :3])
    mode = T.InterpolationMode(interpolation)
    expected = T.CenterCrop(224)(T.Resize(256, interpolation=mode)(Image.fromarray(image)))
    pipeline = A.Compose([ResizeEdge(256, interpolation=interpolation), RoundedCenterCrop(224, 224)])
    np.testing.assert_array_equal(pipeline(image=image)["image"], np.asarray(expected))


def test_masks_follow_the_image_with_nearest_neighbours():
    image = np.zeros((300, 451, 3), np.uint8)
    mask = (np.arange(451)[None, :] // 10).repeat(300, axis=0).astype(np.int64)  # labels 0..45 by column
    out = A.Compose([ResizeEdge(256, interpolation="bilinear")])(image=image, mask=mask)
    assert out["image"].shape[:2] == out["mask"].shape == (256, 384) and out["mask"].dtype == np.int64
    assert set(np.unique(out["mask"])) <= set(np.unique(mask)) and out["mask"][0, -1] == 45


def test_unknown_settings_are_named():
    with pytest.raises(ValueError, match="edge must be 'short' or 'long'"):
        ResizeEdge(256, edge="width")
    with pytest.raises(ValueError, match="interpolation must be one of nearest, bilinear, bicubic"):
        ResizeEdge(256, interpolation="area")
    with pytest.raises(ValueError, match="Pillow only"):
        ResizeEdge(256, backend="cv2")
