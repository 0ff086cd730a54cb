"""Structural checks of a COCO instances JSON before pycocotools indexes it.

pycocotools accepts a file without ``annotations`` as a set of empty images and fails deep inside its
index (``KeyError: 'image_id'``) on a malformed record. Here every missing key or wrong type is an
:class:`AnnotationError` naming the file, the record (image / annotation / category id) and the key.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

from mmengine.logging import print_log

REQUIRED_LISTS = ("images", "annotations", "categories")
REQUIRED_KEYS = {
    "images": ("id", "file_name", "width", "height"),
    "annotations": ("id", "image_id", "category_id", "bbox"),
    "categories": ("id", "name"),
}


class AnnotationError(ValueError):
    """An annotation file is malformed; the message names the file, the record and the key."""


def _is_number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _record_name(kind: str, index: int, record: dict) -> str:
    singular = kind[:-1] if kind != "categories" else "category"
    return f"{singular} id {record['id']}" if "id" in record else f"{singular} #{index} (no id)"


def is_image_info(data: Any) -> bool:
    """Whether ``data`` is a COCO image-info file: ``images`` and ``categories`` without ``annotations``
    (``image_info_test-dev2017.json``)."""
    return isinstance(data, dict) and "annotations" not in data and "images" in data and "categories" in data


def check_coco_dict(data: Any, ann_file: str, allow_image_info: bool = False) -> None:
    """Raise :class:`AnnotationError` unless ``data`` has COCO's lists with well-typed records.

    Empty ``images`` / ``annotations`` lists are legal (a warning is logged); an empty ``categories`` list
    is not (there would be nothing to learn). Box values are only checked to be numbers here: NaN/inf
    and degenerate boxes are the data set's to drop and count. With ``allow_image_info`` a file without
    ``annotations`` (an image-info file, :func:`is_image_info`) passes: images to predict on, no ground truth.
    """
    if not isinstance(data, dict):
        raise AnnotationError(f"Annotation file '{ann_file}' holds a {type(data).__name__}, not a COCO dict")
    for key in REQUIRED_LISTS:
        if key == "annotations" and allow_image_info and is_image_info(data):
            continue
        if key not in data:
            image_info = (
                " It is an image-info file (images without annotations, as the test-dev one): it loads only "
                "for testing (test_mode=True) with test_evaluator.format_only=True."
                if key == "annotations" and is_image_info(data)
                else ""
            )
            raise AnnotationError(
                f"Annotation file '{ann_file}' has no '{key}' key: a COCO instances file needs "
                f"{', '.join(REQUIRED_LISTS)} (an empty list is allowed for images and annotations)."
                f"{image_info}"
            )
        if not isinstance(data[key], list):
            raise AnnotationError(
                f"Annotation file '{ann_file}': '{key}' is a {type(data[key]).__name__}, not a list"
            )
    if not data["categories"]:
        raise AnnotationError(f"Annotation file '{ann_file}' lists no categories")
    for key in ("images", "annotations"):
        if key in data and not data[key]:
            print_log(f"Annotation file '{ann_file}': '{key}' is an empty list", logger="current", level=30)
    for kind, required in REQUIRED_KEYS.items():
        for index, record in enumerate(data.get(kind, [])):
            if not isinstance(record, dict):
                raise AnnotationError(f"Annotation file '{ann_file}': {kind}[{index}] is not a dict")
            missing = [k for k in required if k not in record]
            if missing:
                raise AnnotationError(
                    f"Annotation file '{ann_file}': {_record_name(kind, index, record)} has no {missing[0]!r}"
                )
            _check_types(kind, record, f"Annotation file '{ann_file}': {_record_name(kind, index, record)}")


def _check_types(kind: str, record: dict, where: str) -> None:
    if not isinstance(record["id"], int) or isinstance(record["id"], bool):
        raise AnnotationError(f"{where} has id {record['id']!r}; expected an integer")
    if kind == "images":
        size = (record["width"], record["height"])
        if not all(_is_number(v) and math.isfinite(v) and v > 0 for v in size):
            raise AnnotationError(f"{where} has width/height {size}; expected positive numbers")
        if not isinstance(record["file_name"], str) or not record["file_name"]:
            raise AnnotationError(f"{where} has file_name {record['file_name']!r}; expected a path")
    elif kind == "annotations":
        box = record["bbox"]
        if not isinstance(box, list) or len(box) != 4 or not all(_is_number(v) for v in box):
            raise AnnotationError(f"{where} has bbox {box!r}; expected [x, y, width, height] numbers")
        for key in ("image_id", "category_id"):
            if not isinstance(record[key], int) or isinstance(record[key], bool):
                raise AnnotationError(f"{where} has {key} {record[key]!r}; expected an integer id")
