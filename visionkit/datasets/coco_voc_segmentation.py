"""COCO images as a 21-class PASCAL VOC semantic segmentation set (Mobile DeepLabv3's pretraining stage)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import ClassVar

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..registry import DATASETS
from .coco import COCO_LAYOUT, load_coco
from .coco_checks import AnnotationError
from .data_root import require_path
from .exclude_list import without_excluded
from .transforms.build import build_pipeline
from .voc_palette import voc_palette
from .voc_segmentation import VOC_CLASSES

# COCO category id and name of each VOC class, in VOC's label order 1..20 (torchvision's
# references/segmentation/coco_utils.py CAT_LIST: [0, 5, 2, 16, 9, 44, 6, 3, 17, 62, 21, 67, 18, 19, 4, 1,
# 64, 20, 63, 7, 72]).
VOC_COCO_CATEGORIES: tuple[tuple[int, str], ...] = (
    (5, "airplane"),
    (2, "bicycle"),
    (16, "bird"),
    (9, "boat"),
    (44, "bottle"),
    (6, "bus"),
    (3, "car"),
    (17, "cat"),
    (62, "chair"),
    (21, "cow"),
    (67, "dining table"),
    (18, "dog"),
    (19, "horse"),
    (4, "motorcycle"),
    (1, "person"),
    (64, "potted plant"),
    (20, "sheep"),
    (63, "couch"),
    (7, "train"),
    (72, "tv"),
)


@DATASETS.register_module()
class CocoVOCSegmentation(BaseDataset):
    """COCO's instance annotations of VOC's 20 categories as semantic label maps (background + 20 = VOC's 21
    classes); every other COCO category is background. Read from COCO's own layout::

        data/coco/annotations/instances_train2017.json     data/coco/train2017/*.jpg (val2017 alike)

    The maps are drawn by ``LoadCocoSemanticMap`` in the pipeline (instances of the same or different
    classes that overlap become 255, ignored; crowd regions take their class, or 255 with
    ``crowd='ignore'``), as torchvision's segmentation reference draws them for its COCO-with-VOC-labels
    models. In training (``test_mode=False``) only images whose VOC-category annotations cover more than
    ``min_area`` pixels in all are kept (torchvision's ``_coco_remove_images_without_annotations``, 1000; the
    DeepLabv3 paper's COCO pretraining set is chosen the same way). Evaluation keeps every image.

    Each item: ``img_path``, ``img_id``, ``height``, ``width`` and ``instances`` (``segmentation``,
    ``label`` in 1..20, ``iscrowd``).

    Args:
        data_root, ann_file, data_prefix: as :class:`~visionkit.datasets.CocoDetection`.
        min_area: training filter on the summed COCO ``area`` of an image's VOC-category annotations.
        exclude: a file listing images to leave out (``tools/analysis/check_dataset.py`` writes one; see
            :mod:`visionkit.datasets.exclude_list`).
    """

    METAINFO: ClassVar[dict] = {"classes": VOC_CLASSES, "palette": voc_palette()[: len(VOC_CLASSES)].tolist()}

    def __init__(
        self,
        data_root: str = "data/coco",
        ann_file: str = "annotations/instances_train2017.json",
        data_prefix: dict | None = None,
        min_area: float = 1000,
        exclude: str | None = None,
        pipeline: Sequence[dict] = (),
        test_mode: bool = False,
        **kwargs,
    ) -> None:
        self.min_area = min_area
        self.exclude = exclude
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
        coco = load_coco(self.ann_file)
        label_of = self._voc_labels(coco.cats)
        data_list = []
        for img_id in sorted(coco.getImgIds()):
            image = coco.imgs[img_id]
            anns = [ann for ann in coco.imgToAnns[img_id] if ann["category_id"] in label_of]
            data_list.append(
                {
                    "img_path": os.path.join(self.data_prefix["img"], image["file_name"]),
                    "img_id": img_id,
                    "height": image["height"],
                    "width": image["width"],
                    "instances": [
                        {
                            "segmentation": ann["segmentation"],
                            "label": label_of[ann["category_id"]],
                            "iscrowd": ann.get("iscrowd", 0),
                        }
                        for ann in anns
                        if "segmentation" in ann
                    ],
                    "voc_area": sum(ann.get("area", 0) for ann in anns),
                }
            )
        return data_list

    def _voc_labels(self, categories: dict[int, dict]) -> dict[int, int]:
        """COCO category id -> VOC label 1..20, after checking that the file names those ids as COCO does."""
        wrong = [
            f"{cat_id} is '{categories[cat_id]['name']}', not '{name}'"
            for cat_id, name in VOC_COCO_CATEGORIES
            if cat_id in categories and categories[cat_id]["name"] != name
        ]
        absent = [name for cat_id, name in VOC_COCO_CATEGORIES if cat_id not in categories]
        if wrong or absent:
            raise AnnotationError(
                f"'{self.ann_file}' numbers its categories unlike COCO 2017, so VOC's classes cannot "
                f"be found in it: {'; '.join(wrong + [f'no category for {n}' for n in absent])[:300]}"
            )
        return {cat_id: label for label, (cat_id, _) in enumerate(VOC_COCO_CATEGORIES, start=1)}

    def filter_data(self) -> list[dict]:
        """Drop the images of ``exclude``; in training keep only images whose VOC-category annotations cover
        more than ``min_area`` pixels."""
        data_list = without_excluded(self.data_list, self.exclude, self.data_root)
        if self.test_mode:
            return data_list
        kept = [info for info in data_list if info["voc_area"] > self.min_area]
        if not kept:
            raise AnnotationError(
                f"No image of '{self.ann_file}' ({len(data_list)} images) has more than "
                f"{self.min_area:g} pixels of VOC-class annotations: nothing to train on (lower min_area, or "
                "check the file)"
            )
        print_log(
            f"{self.ann_file}: {len(kept)} of {len(data_list)} images have more than {self.min_area:g} "
            "pixels of VOC-class annotations (the training set)",
            logger="current",
        )
        return kept
