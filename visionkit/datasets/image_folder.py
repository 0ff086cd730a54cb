"""Classification datasets on disk: class-per-folder trees and ``path label`` list files."""

from __future__ import annotations

import os
from collections.abc import Sequence

from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from ..registry import DATASETS
from .data_root import require_path
from .exclude_list import without_excluded
from .transforms.build import build_pipeline

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def read_class_names(path: str) -> tuple[str, ...]:
    """One class name per line, in label order."""
    require_path(path, "Class-name file")
    with open(path) as f:
        return tuple(line.strip() for line in f if line.strip())


@DATASETS.register_module()
class ImageFolderDataset(BaseDataset):
    """Images with one class each, in either of two layouts under ``data_root/data_prefix``:

    - folder mode (no ``ann_file``): ``<class name>/<image>``; class names are the sorted folder names
      unless ``classes`` gives them (then label = position in ``classes``).
    - list mode: ``ann_file`` lines ``relative/path.jpg <label>`` (0-based), mmpretrain's format, as
      used for the ImageNet val set.

    Each item is ``{'img_path': str, 'gt_label': int}`` before the pipeline.

    Args:
        classes: class names, or a text file with one per line (relative to ``data_root``).
        exclude: a file listing images to leave out (``tools/analysis/check_dataset.py`` writes one; see
            :mod:`visionkit.datasets.exclude_list`).
    """

    def __init__(
        self,
        data_root: str = "",
        data_prefix: str = "",
        ann_file: str = "",
        classes: Sequence[str] | str | None = None,
        exclude: str | None = None,
        pipeline: Sequence[dict] = (),
        test_mode: bool = False,
        **kwargs,
    ) -> None:
        self.exclude = exclude
        if isinstance(classes, str):
            classes = read_class_names(os.path.join(data_root, classes))
        metainfo = {"classes": tuple(classes)} if classes is not None else None
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo,
            data_root=data_root,
            data_prefix=dict(img_path=data_prefix),
            pipeline=build_pipeline(pipeline),
            test_mode=test_mode,
            **kwargs,
        )

    def load_data_list(self) -> list[dict]:
        require_path(self.data_root or ".", "Dataset root")
        image_dir = self.data_prefix["img_path"]
        require_path(image_dir, "Image folder")
        items = self._load_list() if self.ann_file else self._scan_folders(image_dir)
        if not items:
            raise ValueError(f"No images found in '{image_dir}' (extensions: {', '.join(IMG_EXTENSIONS)})")
        return items

    def filter_data(self) -> list[dict]:
        """Leave out the images of ``exclude``."""
        return without_excluded(self.data_list, self.exclude, self.data_root)

    def _scan_folders(self, image_dir: str) -> list[dict]:
        folders = sorted(d.name for d in os.scandir(image_dir) if d.is_dir())
        classes = self._metainfo.get("classes") or tuple(folders)
        self._metainfo["classes"] = tuple(classes)
        label_of = {name: label for label, name in enumerate(classes)}
        unknown = [f for f in folders if f not in label_of]
        if unknown:
            raise ValueError(f"Folders {unknown[:5]} in '{image_dir}' are not among the configured classes")
        items = []
        empty = []
        for folder in folders:
            before = len(items)
            for root, _, files in sorted(os.walk(os.path.join(image_dir, folder))):
                for name in sorted(files):
                    if name.lower().endswith(IMG_EXTENSIONS):
                        items.append({"img_path": os.path.join(root, name), "gt_label": label_of[folder]})
            if len(items) == before:
                empty.append(folder)
        if empty:
            print_log(
                f"'{image_dir}': {len(empty)} class folders hold no images ({', '.join(empty[:5])}); "
                "their classes get no training examples",
                logger="current",
                level=30,
            )
        return items

    def _load_list(self) -> list[dict]:
        require_path(self.ann_file, "Annotation list")
        items = []
        with open(self.ann_file) as f:
            for line_no, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                path, _, label = line.strip().rpartition(" ")
                if not path or not label.lstrip("-").isdigit():
                    raise ValueError(
                        f"{self.ann_file}:{line_no}: expected 'relative/path <label>', got {line.strip()!r}"
                    )
                items.append(
                    {"img_path": os.path.join(self.data_prefix["img_path"], path), "gt_label": int(label)}
                )
        if "classes" not in self._metainfo:
            self._metainfo["classes"] = tuple(str(i) for i in range(max(i["gt_label"] for i in items) + 1))
        count = len(self._metainfo["classes"])
        bad = [(n, i) for n, i in enumerate(items, start=1) if not 0 <= i["gt_label"] < count]
        if bad:
            raise ValueError(
                f"{self.ann_file}: label {bad[0][1]['gt_label']} of '{bad[0][1]['img_path']}' is outside "
                f"0..{count - 1} ({count} classes; {len(bad)} such lines)"
            )
        return items


def class_folders(path: str) -> tuple[str, ...]:
    """The sorted names of the folders in ``path`` (ImageNet's WordNet ids), or () if it has none."""
    if not os.path.isdir(path):
        return ()
    return tuple(sorted(entry.name for entry in os.scandir(path) if entry.is_dir()))


@DATASETS.register_module()
class ImageNetDataset(ImageFolderDataset):
    """ILSVRC-2012 as people lay it out after download (and as ``tools/make_toy_data.py classification``
    writes it)::

        data/imagenet/train/n01440764/*.JPEG     class-per-folder (sorted wnids = labels 0..999)
        data/imagenet/val/*.JPEG                 flat, with
        data/imagenet/meta/val.txt               'ILSVRC2012_val_00000001.JPEG 65' per line
        data/imagenet/val/n01440764/*.JPEG       or class folders, as train (torchvision's layout)
        data/imagenet/meta/classes.txt           optional: one class name per line, in label order

    Classes, for both splits: ``classes`` if given, else ``meta/classes.txt`` if present, else the sorted
    folder names of ``train/`` (the wnids), else (val only, no train split on disk) those of ``val/``. So
    val labels and names agree with training's whether or not ``classes.txt`` exists. The val split reads
    ``meta/val.txt`` when it exists, else class folders under ``val/`` (``ann_file=''`` forces folders).
    ``tools/dataset_converters/imagenet_val.py`` writes ``meta/val.txt`` (or the class folders) from the
    ILSVRC2012 devkit's ground truth.

    Args:
        split: ``'train'`` or ``'val'``.
    """

    def __init__(
        self,
        data_root: str = "data/imagenet",
        split: str = "train",
        classes: Sequence[str] | str | None = None,
        **kwargs,
    ) -> None:
        if split not in ("train", "val"):
            raise ValueError(f"split must be 'train' or 'val', got '{split}'")
        kwargs.setdefault("data_prefix", split)
        if split == "val" and "ann_file" not in kwargs:
            listed = os.path.isfile(os.path.join(data_root, "meta", "val.txt"))
            folders = class_folders(os.path.join(data_root, kwargs["data_prefix"]))
            kwargs["ann_file"] = "" if folders and not listed else "meta/val.txt"
        if classes is None:
            classes = self._default_classes(data_root, kwargs["data_prefix"])
        super().__init__(data_root=data_root, classes=classes, **kwargs)

    @staticmethod
    def _default_classes(data_root: str, prefix: str) -> Sequence[str] | str | None:
        if os.path.isfile(os.path.join(data_root, "meta", "classes.txt")):
            return "meta/classes.txt"
        return (
            class_folders(os.path.join(data_root, "train"))
            or class_folders(os.path.join(data_root, prefix))
            or None
        )
