"""COCO-format object detection: instances JSON files read with pycocotools."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from collections.abc import Sequence

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from pycocotools.coco import COCO

from ..registry import DATASETS
from .coco_checks import AnnotationError, check_coco_dict, is_image_info
from .data_root import require_path
from .exclude_list import without_excluded
from .transforms.build import build_pipeline

COCO_LAYOUT = "data/coco/{annotations,train2017,val2017}"


def load_coco(ann_file: str, allow_image_info: bool = False) -> COCO:
    """Read and check a COCO instances JSON file (:func:`check_coco_dict`); errors name the file.

    With ``allow_image_info`` an image-info file (no ``annotations``: test-dev's) loads as images without
    annotations.
    """
    require_path(ann_file, f"COCO annotation file (layout: {COCO_LAYOUT})")
    try:
        with open(ann_file, encoding="utf-8") as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise AnnotationError(f"Annotation file '{ann_file}' is not valid JSON: {error}") from error
    check_coco_dict(data, ann_file, allow_image_info)
    coco = COCO()
    coco.dataset = data
    with contextlib.redirect_stdout(io.StringIO()):  # createIndex prints progress
        coco.createIndex()
    return coco


@DATASETS.register_module()
class CocoDetection(BaseDataset):
    """Object detection on COCO's on-disk layout (or any data set in its instances JSON format)::

        data/coco/annotations/instances_train2017.json
        data/coco/annotations/instances_val2017.json
        data/coco/train2017/*.jpg
        data/coco/val2017/*.jpg

    Each item before the pipeline: ``img_path``, ``img_id`` (the COCO image id), ``gt_bboxes`` (N, 4)
    float32 xyxy in original-image pixels, clipped to the image, and ``gt_labels`` (N,) int64 in
    ``0..C-1``. Labels follow the category ids in ascending order (COCO's ids 1..90 with gaps become
    0..79); ``label_to_cat_id`` maps them back for result files.

    ``iscrowd`` annotations are left out (COCOeval treats them as ignore regions). Boxes partly outside
    the image are clipped; boxes with a NaN or infinite value, boxes narrower or lower than 1 px after
    clipping, and annotations of unknown categories or images are dropped. Counts are logged once. A
    file without ``images`` / ``annotations`` / ``categories`` or with a malformed record raises
    :class:`~visionkit.datasets.coco_checks.AnnotationError` naming the file, record and key.

    ``metainfo``: ``classes`` (names in label order), ``cat_ids`` (the file's category ids, ascending),
    ``label_cat_ids`` (the category id of each label), ``ann_file`` (the resolved path, so ``CocoMetric``
    finds its ground truth without a second setting) and ``image_info`` (an image-info file: test-dev's
    images without annotations, which load in test mode only, for ``format_only``).

    Args:
        data_root: folder that ``ann_file`` and ``data_prefix`` are relative to.
        ann_file: instances JSON file.
        data_prefix: ``dict(img=...)``, the image folder.
        filter_empty_gt: in training (``test_mode=False``) leave out images without any kept box.
        min_size: in training leave out images whose shorter side is below this, in pixels.
        label_cat_ids: the category id of each label when the model's labels are not the file's categories
            in ascending order (torchvision's COCO detectors: ``list(range(1, 91))``, label j = category
            j + 1, the 10 ids COCO 2017 lacks named "N/A"); annotations of other categories are dropped.
        exclude: a file listing images to leave out (``tools/analysis/check_dataset.py`` writes one; see
            :mod:`visionkit.datasets.exclude_list`).
    """

    def __init__(
        self,
        data_root: str = "data/coco",
        ann_file: str = "annotations/instances_train2017.json",
        data_prefix: dict | None = None,
        filter_empty_gt: bool = False,
        min_size: int = 0,
        label_cat_ids: Sequence[int] | None = None,
        exclude: str | None = None,
        pipeline: Sequence[dict] = (),
        test_mode: bool = False,
        **kwargs,
    ) -> None:
        self.label_cat_ids = None if label_cat_ids is None else tuple(int(i) for i in label_cat_ids)
        self.filter_empty_gt = filter_empty_gt
        self.min_size = min_size
        self.exclude = exclude
        self.label_to_cat_id: tuple[int, ...] = ()
        self.cat_id_to_label: dict[int, int] = {}
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=dict(data_prefix or dict(img="train2017/")),
            pipeline=build_pipeline(pipeline),
            test_mode=test_mode,
            **kwargs,
        )

    def load_data_list(self) -> list[dict]:
        require_path(self.data_root or ".", f"COCO data root (layout: {COCO_LAYOUT})")
        require_path(self.data_prefix["img"], f"COCO image folder (layout: {COCO_LAYOUT})")
        # An image-info file (test-dev's: no annotations) is a test set to predict on.
        coco = load_coco(self.ann_file, allow_image_info=self.test_mode)
        categories = sorted(coco.loadCats(coco.getCatIds()), key=lambda c: c["id"])
        names = tuple(c["name"] for c in categories)
        declared = self._metainfo.get("classes")
        if declared is not None and tuple(declared) != names and self.label_cat_ids is None:
            raise AnnotationError(
                f"'{self.ann_file}' has the categories {names} (in category id order) but the config "
                f"declares classes {tuple(declared)}: make metainfo.classes (custom_data.classes) list the "
                f"file's category names in id order"
            )
        if self.label_cat_ids is None:
            self.label_to_cat_id = tuple(c["id"] for c in categories)
            label_names = names
        else:  # a model's own label space, e.g. torchvision's COCO detectors: label j = category j + 1
            by_id = {c["id"]: c["name"] for c in categories}
            self.label_to_cat_id = self.label_cat_ids
            label_names = tuple(by_id.get(cat_id, "N/A") for cat_id in self.label_cat_ids)
        self.cat_id_to_label = {cat_id: label for label, cat_id in enumerate(self.label_to_cat_id)}
        self._metainfo.update(
            classes=label_names,
            cat_ids=tuple(c["id"] for c in categories),
            label_cat_ids=self.label_to_cat_id,
            ann_file=self.ann_file,
            image_info=is_image_info(coco.dataset),
        )
        counts = {"clipped": 0, "degenerate": 0, "non-finite": 0, "unknown category": 0}
        counts["unknown image"] = sum(
            1 for ann in coco.dataset.get("annotations", []) if ann["image_id"] not in coco.imgs
        )
        non_finite_ids: list[int] = []
        data_list = []
        for img_id in sorted(coco.getImgIds()):
            image = coco.imgs[img_id]
            boxes, labels = self._parse_annotations(coco.imgToAnns[img_id], image, counts, non_finite_ids)
            data_list.append(
                {
                    "img_path": os.path.join(self.data_prefix["img"], image["file_name"]),
                    "img_id": img_id,
                    "width": image["width"],
                    "height": image["height"],
                    "gt_bboxes": boxes,
                    "gt_labels": labels,
                }
            )
        if any(counts.values()):
            summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
            if non_finite_ids:
                summary += f" (non-finite: annotation ids {', '.join(map(str, non_finite_ids[:5]))})"
            print_log(
                f"{self.ann_file}: boxes fixed while loading: {summary} (clipped ones kept, others dropped)",
                logger="current",
                level=30,
            )
        return data_list

    def _parse_annotations(
        self, anns: list[dict], image: dict, counts: dict[str, int], non_finite_ids: list[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Non-crowd boxes of one image as ((N, 4) float32 xyxy pixels, (N,) int64 labels)."""
        width, height = image["width"], image["height"]
        boxes, labels = [], []
        for ann in anns:
            if ann.get("iscrowd", 0):
                continue
            if ann["category_id"] not in self.cat_id_to_label:
                counts["unknown category"] += 1
                continue
            x, y, w, h = ann["bbox"]
            if not all(math.isfinite(v) for v in (x, y, w, h)):
                counts["non-finite"] += 1
                non_finite_ids.append(ann["id"])
                continue
            box = [x, y, x + w, y + h]
            clipped = [min(max(v, 0), limit) for v, limit in zip(box, (width, height) * 2, strict=True)]
            if clipped[2] - clipped[0] < 1 or clipped[3] - clipped[1] < 1:
                counts["degenerate"] += 1
                continue
            counts["clipped"] += clipped != box
            boxes.append(clipped)
            labels.append(self.cat_id_to_label[ann["category_id"]])
        return (
            np.array(boxes, dtype=np.float32).reshape(-1, 4),
            np.array(labels, dtype=np.int64),
        )

    def _serialize_data(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.data_list:  # mmengine's serialisation cannot concatenate nothing; an empty set is legal
            return np.zeros(0, dtype=np.uint8), np.zeros(0, dtype=np.int64)
        return super()._serialize_data()

    def filter_data(self) -> list[dict]:
        """Drop the images of ``exclude``; in training also those without boxes (if ``filter_empty_gt``)
        or smaller than ``min_size``."""
        data_list = without_excluded(self.data_list, self.exclude, self.data_root)
        if self.test_mode:
            return data_list
        return [
            info
            for info in data_list
            if min(info["width"], info["height"]) >= self.min_size
            and not (self.filter_empty_gt and len(info["gt_labels"]) == 0)
        ]
