"""Toy semantic segmentation set in the PASCAL VOC 2012 on-disk layout.

::

    root/VOCdevkit/VOC2012/JPEGImages/<id>.jpg
    root/VOCdevkit/VOC2012/SegmentationClass/<id>.png     palette ('P') PNG, VOC colour map
    root/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val}.txt

Mask values are 0 for background, ``1 + TOY_CLASSES.index(name)`` for shapes and 255 ("ignore") on a
band a few pixels wide along every object boundary, as in VOC's annotations.
"""

from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..voc_palette import voc_palette
from .shapes import JPEG_QUALITY, TOY_CLASSES, Scene, place_shapes, random_background, sample_rng

IGNORE_INDEX = 255
VOC_CLASSES: tuple[str, ...] = ("background", *TOY_CLASSES)
_BORDER_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))  # ~2 px on each side of an edge


def draw_segmentation_image(
    rng: np.random.Generator, size_range: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A scene of 1-4 shapes over a photo and its VOC label map.

    Height and width are drawn independently from ``size_range`` (pixels, inclusive). Returns the
    (H, W, 3) uint8 RGB image and the (H, W) uint8 label map.
    """
    height, width = (int(s) for s in rng.integers(size_range[0], size_range[1] + 1, size=2))
    scene = Scene(random_background(rng, height, width))
    num_objects = int(rng.integers(1, 5))
    classes = rng.choice(TOY_CLASSES, size=num_objects).tolist()
    sizes = rng.uniform(0.25, 0.65, size=num_objects) * min(height, width)
    placed = place_shapes(scene, rng, zip(classes, sizes, strict=True))

    label = np.zeros((height, width), dtype=np.uint8)
    border = np.zeros((height, width), dtype=bool)
    for name, mask in zip(placed, scene.masks, strict=True):
        label[mask] = VOC_CLASSES.index(name)
        mask_u8 = mask.astype(np.uint8)
        border |= cv2.dilate(mask_u8, _BORDER_KERNEL).astype(bool) & ~cv2.erode(
            mask_u8, _BORDER_KERNEL
        ).astype(bool)
    label[border] = IGNORE_INDEX
    return scene.image, label


def _image_ids(rng: np.random.Generator, count: int) -> list[str]:
    """Unique VOC-style ids ``YYYY_NNNNNN``."""
    numbers = rng.choice(np.arange(1, 10_000), size=count, replace=False)
    years = rng.integers(2007, 2013, size=count)
    return [f"{year}_{number:06d}" for year, number in zip(years.tolist(), numbers.tolist(), strict=True)]


def make_voc_segmentation_set(
    root: str | Path,
    num_train: int = 160,
    num_val: int = 40,
    image_size: int | tuple[int, int] = (160, 240),
    seed: int = 0,
) -> dict:
    """Write a shape segmentation set in the VOC 2012 layout under ``root/VOCdevkit/VOC2012``.

    ``image_size`` is a side length in pixels or a ``(min, max)`` range from which each image's height
    and width are drawn independently. Split files list ids sorted, and image ``i`` of that order in
    split ``s`` is drawn from ``sample_rng(seed, s, i)``. Returns the written paths and counts.
    """
    size_range = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    voc_root = Path(root) / "VOCdevkit" / "VOC2012"
    image_dir, mask_dir = voc_root / "JPEGImages", voc_root / "SegmentationClass"
    split_dir = voc_root / "ImageSets" / "Segmentation"
    for directory in (image_dir, mask_dir, split_dir):
        directory.mkdir(parents=True, exist_ok=True)
    palette = voc_palette().reshape(-1).tolist()

    ids = _image_ids(np.random.default_rng(seed), num_train + num_val)
    result: dict = {"root": Path(root), "data_root": voc_root, "image_dir": image_dir, "mask_dir": mask_dir}
    for split, split_ids in (("train", sorted(ids[:num_train])), ("val", sorted(ids[num_train:]))):
        for index, image_id in enumerate(split_ids):
            image, label = draw_segmentation_image(sample_rng(seed, split, index), size_range)
            Image.fromarray(image).save(image_dir / f"{image_id}.jpg", quality=JPEG_QUALITY)
            label_png = Image.fromarray(label, mode="P")
            label_png.putpalette(palette)
            label_png.save(mask_dir / f"{image_id}.png")
        split_file = split_dir / f"{split}.txt"
        split_file.write_text("".join(f"{image_id}\n" for image_id in split_ids))
        result |= {f"{split}_list": split_file, f"num_{split}": len(split_ids)}
    result["classes"] = VOC_CLASSES
    return result
