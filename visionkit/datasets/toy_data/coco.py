"""Toy detection / instance segmentation set in the COCO 2017 on-disk layout.

::

    root/train2017/<12-digit image id>.jpg
    root/val2017/<12-digit image id>.jpg
    root/annotations/instances_train2017.json
    root/annotations/instances_val2017.json

Traps that real COCO sets for loaders are reproduced on purpose: category ids are not contiguous,
image ids are not list indices, about 10% of the images have no objects, objects are small, medium
and large in COCO's area sense and may overlap, and a few ``iscrowd: 1`` annotations use RLE.
"""

import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from .shapes import (
    JPEG_QUALITY,
    TOY_CLASSES,
    Scene,
    mask_to_bbox,
    place_shapes,
    random_background,
    sample_rng,
    shape_mask,
)

CATEGORY_IDS: dict[str, int] = dict(zip(TOY_CLASSES, (1, 3, 7, 12), strict=True))
MAX_OBJECTS = 6
_MIN_OBJECT_SIZE = 14  # pixels; smaller stars fall below the scene's minimum area
_INFO = {
    "description": "visionkit toy shapes in COCO format",
    "url": "",
    "version": "1.0",
    "year": 2017,
    "contributor": "visionkit",
    "date_created": "2017/09/01",
}
_LICENSES = [{"url": "", "id": 1, "name": "Synthetic shapes over scikit-image sample photos"}]


def _crowd_mask(rng: np.random.Generator, name: str, image_shape: tuple[int, int]) -> np.ndarray:
    """Union mask of a tight cluster of 8-15 small shapes, annotated as one crowd region."""
    height, width = image_shape
    radius = rng.uniform(0.05, 0.09) * min(height, width)
    center = rng.uniform((radius, radius), (width - radius, height - radius))
    mask = np.zeros(image_shape, dtype=bool)
    for _ in range(rng.integers(8, 16)):
        offset = rng.uniform(-radius, radius, size=2)
        mask |= shape_mask(name, image_shape, tuple(center + offset), rng.uniform(8, 14))
    return mask


def draw_detection_image(
    rng: np.random.Generator, image_shape: tuple[int, int], num_objects: int, with_crowd: bool = False
) -> tuple[np.ndarray, list[tuple[str, np.ndarray, bool]]]:
    """An (H, W, 3) uint8 RGB scene and its objects as ``(class name, visible (H, W) mask, iscrowd)``.

    Object sizes are log-uniform from 14 px to 70% of the shorter side, so all COCO area ranges occur.
    Shapes that find no place (see :class:`Scene`) are dropped, so fewer objects may come back.
    """
    height, width = image_shape
    scene = Scene(random_background(rng, height, width))
    names: list[tuple[str, bool]] = []
    if with_crowd:
        crowd_name = str(rng.choice(TOY_CLASSES))
        if scene.try_add(rng, _crowd_mask(rng, crowd_name, image_shape)):
            names.append((crowd_name, True))
    classes = rng.choice(TOY_CLASSES, size=num_objects).tolist()
    sizes = np.exp(rng.uniform(np.log(_MIN_OBJECT_SIZE), np.log(0.7 * min(height, width)), size=num_objects))
    names += [(name, False) for name in place_shapes(scene, rng, zip(classes, sizes, strict=True))]
    return scene.image, [(name, mask, crowd) for (name, crowd), mask in zip(names, scene.masks, strict=True)]


def _uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's JSON RLE of an (H, W) mask: column-major run lengths starting with a run of zeros."""
    flat = mask.ravel(order="F").astype(np.int8)
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts.insert(0, 0)
    return {"counts": counts, "size": list(mask.shape)}


def _polygons(mask: np.ndarray) -> list[list[float]]:
    """Outer contours of an (H, W) mask as COCO polygons ``[x0, y0, x1, y1, ...]``; holes are ignored.

    Contours are traced on a 2x nearest-upsampled mask and mapped back, which puts them a quarter pixel
    outside the boundary pixels' centres: pycocotools then rasterises them back to the same pixels, thin
    star tips and one-pixel slivers included (contours through the centres would drop those).
    """
    upsampled = cv2.resize(mask.astype(np.uint8), None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    contours, _ = cv2.findContours(upsampled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [((contour.reshape(-1) + 0.5) / 2).tolist() for contour in contours if len(contour) >= 3]


def _annotation(ann_id: int, image_id: int, name: str, mask: np.ndarray, iscrowd: bool) -> dict:
    height, width = mask.shape
    segmentation = _uncompressed_rle(mask) if iscrowd else _polygons(mask)
    rle = mask_utils.frPyObjects(segmentation, height, width)
    # Area of the stored segmentation, as in COCO, so it equals the pixel count of annToMask().
    area = mask_utils.area(rle if iscrowd else mask_utils.merge(rle))
    x1, y1, x2, y2 = mask_to_bbox(mask)
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": CATEGORY_IDS[name],
        "segmentation": segmentation,
        "area": float(area),
        "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)],
        "iscrowd": int(iscrowd),
    }


def _write_split(
    root: Path, split: str, image_ids: list[int], size_range: tuple[int, int], seed: int
) -> dict:
    """Draw and write one split's images; returns its COCO dataset dict."""
    image_dir = root / f"{split}2017"
    image_dir.mkdir(parents=True, exist_ok=True)
    num_images = len(image_ids)
    # Fixed counts rather than a per-image coin flip, so even tiny sets have empty and crowd images.
    num_empty = max(1, round(0.1 * num_images)) if num_images > 1 else 0
    num_crowd = max(1, round(0.08 * num_images)) if num_images > num_empty + 1 else 0
    order = sample_rng(seed, f"{split}/layout", 0).permutation(num_images)
    empty, crowd = set(order[:num_empty].tolist()), set(order[num_empty : num_empty + num_crowd].tolist())

    images, annotations = [], []
    for index, image_id in enumerate(image_ids):
        rng = sample_rng(seed, split, index)
        image_shape = tuple(int(s) for s in rng.integers(size_range[0], size_range[1] + 1, size=2))
        num_objects = 0 if index in empty else int(rng.integers(1, MAX_OBJECTS + 1))
        image, objects = draw_detection_image(rng, image_shape, num_objects, index in crowd)
        file_name = f"{image_id:012d}.jpg"
        Image.fromarray(image).save(image_dir / file_name, quality=JPEG_QUALITY)
        images.append(
            {
                "id": image_id,
                "file_name": file_name,
                "width": image_shape[1],
                "height": image_shape[0],
                "license": 1,
            }
        )
        # Large, unique, non-contiguous annotation ids, like COCO's.
        for k, (name, mask, iscrowd) in enumerate(objects):
            annotations.append(_annotation(image_id * 100 + k, image_id, name, mask, iscrowd))
    categories = [{"id": CATEGORY_IDS[name], "name": name, "supercategory": "shape"} for name in TOY_CLASSES]
    return {
        "info": _INFO,
        "licenses": _LICENSES,
        "images": images,
        "annotations": annotations,
        "categories": categories,
    }


def make_coco_detection_set(
    root: str | Path,
    num_train: int = 512,
    num_val: int = 64,
    image_size: int | tuple[int, int] = (256, 384),
    seed: int = 0,
) -> dict:
    """Write a shape detection / instance segmentation set in the COCO 2017 layout.

    ``image_size`` is a side length in pixels or a ``(min, max)`` range from which each image's height
    and width are drawn independently. Image ``i`` of split ``s`` is drawn from ``sample_rng(seed, s, i)``.
    Returns the written paths, the category ids and the counts.
    """
    root = Path(root)
    size_range = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    ids = (
        np.random.default_rng(seed).choice(np.arange(1, 600_000), num_train + num_val, replace=False).tolist()
    )
    ann_dir = root / "annotations"
    ann_dir.mkdir(parents=True, exist_ok=True)
    result: dict = {"root": root, "categories": {i: name for name, i in CATEGORY_IDS.items()}}
    for split, split_ids in (("train", ids[:num_train]), ("val", ids[num_train:])):
        dataset = _write_split(root, split, split_ids, size_range, seed)
        ann_file = ann_dir / f"instances_{split}2017.json"
        ann_file.write_text(json.dumps(dataset))
        result |= {
            f"{split}_dir": root / f"{split}2017",
            f"{split}_ann": ann_file,
            f"num_{split}": len(dataset["images"]),
            f"num_{split}_objects": len(dataset["annotations"]),
        }
    return result
