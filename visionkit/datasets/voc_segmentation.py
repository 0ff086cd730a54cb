"""PASCAL VOC 2012 semantic segmentation on its real on-disk layout (and the SBD "trainaug" extension)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import ClassVar

from mmengine.dataset import BaseDataset

from ..registry import DATASETS
from .data_root import MissingDataError, missing_data_message, require_path
from .exclude_list import without_excluded
from .transforms.build import build_pipeline
from .voc_palette import voc_palette

VOC_CLASSES: tuple[str, ...] = (
    "background",
    "aeroplane",
    "bicycle",
    "bird",
    "boat",
    "bottle",
    "bus",
    "car",
    "cat",
    "chair",
    "cow",
    "diningtable",
    "dog",
    "horse",
    "motorbike",
    "person",
    "pottedplant",
    "sheep",
    "sofa",
    "train",
    "tvmonitor",
)
_MISSING_SHOWN = 5


@DATASETS.register_module()
class VOCSegmentation(BaseDataset):
    """VOC 2012 segmentation: images listed by id in a split file, one label PNG per image::

        data/VOCdevkit/VOC2012/JPEGImages/<id>.jpg
        data/VOCdevkit/VOC2012/SegmentationClass/<id>.png        palette PNG, 255 = ignore (borders)
        data/VOCdevkit/VOC2012/ImageSets/Segmentation/{train,val}.txt
        data/VOCdevkit/VOC2012/SegmentationClassAug/<id>.png     "trainaug" (VOC + SBD, 10,582 images):
        data/VOCdevkit/VOC2012/ImageSets/Segmentation/trainaug.txt   grayscale index PNGs and their list
                                                                     (tools/dataset_converters/voc_aug.py)

    A split file lists one image id per line, or per line an image path and a label path relative to
    ``data_root`` (``/JPEGImages/<id>.jpg /SegmentationClassAug/<id>.png``: the ``train_aug.txt`` shared
    with the SegmentationClassAug download), which then override ``img_dir`` / ``ann_dir``.

    ``tools/make_toy_data.py voc`` writes the same layout under ``data/toy/voc``. Each item is
    ``{'img_path', 'seg_map_path', 'img_id'}`` before the pipeline (``LoadImage`` + ``LoadSegMap``).

    Args:
        data_root: the ``VOC2012`` folder.
        split: the id list, relative to ``data_root``.
        img_dir, ann_dir: image and label folders, relative to ``data_root`` (``ann_dir=
            'SegmentationClassAug'`` with ``split='ImageSets/Segmentation/trainaug.txt'`` for trainaug).
        metainfo: overrides ``classes`` (default: the 21 VOC classes) and ``palette`` ((K, 3) RGB, by
            default the VOC colour map's first K entries).
        exclude: a file listing images to leave out (``tools/analysis/check_dataset.py`` writes one; see
            :mod:`visionkit.datasets.exclude_list`).
    """

    METAINFO: ClassVar[dict] = {"classes": VOC_CLASSES, "palette": voc_palette()[: len(VOC_CLASSES)].tolist()}

    def __init__(
        self,
        data_root: str = "data/VOCdevkit/VOC2012",
        split: str = "ImageSets/Segmentation/train.txt",
        img_dir: str = "JPEGImages",
        ann_dir: str = "SegmentationClass",
        img_suffix: str = ".jpg",
        seg_map_suffix: str = ".png",
        metainfo: dict | None = None,
        exclude: str | None = None,
        pipeline: Sequence[dict] = (),
        test_mode: bool = False,
        **kwargs,
    ) -> None:
        self.exclude = exclude
        metainfo = dict(metainfo or {})
        if "classes" in metainfo and "palette" not in metainfo:
            metainfo["palette"] = voc_palette()[: len(metainfo["classes"])].tolist()
        self.img_suffix, self.seg_map_suffix = img_suffix, seg_map_suffix
        super().__init__(
            ann_file=split,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(img_path=img_dir, seg_map_path=ann_dir),
            pipeline=build_pipeline(pipeline),
            test_mode=test_mode,
            **kwargs,
        )

    def load_data_list(self) -> list[dict]:
        require_path(self.data_root or ".", "VOC 2012 root (the VOCdevkit/VOC2012 folder)")
        require_path(self.ann_file, "VOC split file")
        img_dir, ann_dir = self.data_prefix["img_path"], self.data_prefix["seg_map_path"]
        require_path(img_dir, "VOC image folder")
        require_path(ann_dir, "VOC label folder")
        with open(self.ann_file) as f:
            lines = [line.split() for line in f if line.strip()]
        if not lines:
            raise ValueError(f"VOC split file '{self.ann_file}' lists no image ids")
        items = [
            self._item(fields, line_no, img_dir, ann_dir) for line_no, fields in enumerate(lines, start=1)
        ]
        items = without_excluded(items, self.exclude, self.data_root)
        missing = [
            p for item in items for p in (item["img_path"], item["seg_map_path"]) if not os.path.isfile(p)
        ]
        if missing:
            shown = ", ".join(missing[:_MISSING_SHOWN])
            raise MissingDataError(
                f"{len(missing)} files listed by '{self.ann_file}' are missing (e.g. {shown}). "
                + missing_data_message(missing[0], "File")
            )
        return items

    def _item(self, fields: list[str], line_no: int, img_dir: str, ann_dir: str) -> dict:
        """One split-file line: an image id, or an image path and a label path relative to the VOC2012
        folder (``/JPEGImages/2007_000032.jpg /SegmentationClassAug/2007_000032.png``, the widely shared
        ``train_aug.txt``)."""
        if len(fields) == 1:
            image_id = fields[0]
            return {
                "img_path": os.path.join(img_dir, image_id + self.img_suffix),
                "seg_map_path": os.path.join(ann_dir, image_id + self.seg_map_suffix),
                "img_id": image_id,
            }
        if len(fields) == 2:
            img_path, seg_map_path = (os.path.join(self.data_root, f.lstrip("/")) for f in fields)
            return {
                "img_path": img_path,
                "seg_map_path": seg_map_path,
                "img_id": os.path.splitext(os.path.basename(fields[0]))[0],
            }
        raise ValueError(
            f"{self.ann_file}:{line_no}: expected an image id or 'image_path label_path', "
            f"got {' '.join(fields)!r}"
        )
