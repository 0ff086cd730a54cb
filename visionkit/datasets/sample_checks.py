"""What every sample of a data set must satisfy before training, checked without the pipeline.

:func:`leaf_datasets` finds the data sets that hold files behind wrappers (``RepeatDataset``,
``MultiTaskDataset``...), :func:`sample_records` turns each item into a small picklable record, and
:func:`check_sample` reads its files as training would (``read_image`` / ``read_seg_map``) and lists
what is wrong. ``tools/analysis/check_dataset.py`` runs it over a split in parallel.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from mmengine.dataset import BaseDataset

from .bad_samples import BadSampleError
from .exclude_list import relative_image_path
from .transforms.load_seg_map import read_seg_map
from .transforms.loading import read_image

IGNORE_LABEL = 255  # segmentation maps' "ignore" value (VOC's object borders)


def leaf_datasets(dataset: Any, key: str) -> list[tuple[str, Any]]:
    """``(config key, data set)`` of each data set under ``dataset`` that lists files itself.

    ``key`` is ``dataset``'s config key (``train_dataloader.dataset``); a leaf's key is where its
    ``exclude=`` goes, e.g. ``train_dataloader.dataset.dataset`` under a ``RepeatDataset``.
    """
    if isinstance(dataset, BaseDataset):
        return [(key, dataset)]
    children = getattr(dataset, "datasets", None)
    if isinstance(children, dict):
        named = children.items()
    elif isinstance(children, (list, tuple)):
        named = enumerate(children)
    elif getattr(dataset, "dataset", None) is not None:
        return leaf_datasets(dataset.dataset, f"{key}.dataset")
    else:
        raise TypeError(
            f"Cannot list the files of {type(dataset).__name__} ({key}): not an mmengine BaseDataset"
        )
    return [leaf for name, child in named for leaf in leaf_datasets(child, f"{key}.datasets.{name}")]


def sample_records(dataset: Any, indices: Iterable[int] | None = None) -> Iterator[dict]:
    """One record per item (``indices``, default all) of a leaf data set: its files, recorded size and
    labels, class count."""
    num_classes = len(dataset.metainfo.get("classes") or ())
    for index in range(len(dataset)) if indices is None else indices:
        info = dataset.get_data_info(index)
        record = {
            "img_path": info["img_path"],
            "relative_path": relative_image_path(info["img_path"], dataset.data_root),
            "num_classes": num_classes,
        }
        for key in ("height", "width", "seg_map_path", "gt_label"):
            if info.get(key) is not None:
                record[key] = info[key]
        if "gt_bboxes" in info:
            record["gt_bboxes"] = np.asarray(info["gt_bboxes"], dtype=np.float32).reshape(-1, 4)
            record["gt_labels"] = np.asarray(info["gt_labels"], dtype=np.int64).reshape(-1)
        yield record


def check_sample(record: dict) -> list[str]:
    """What is wrong with one record's files (empty if nothing): the image decodes, has the size its
    annotation records, its boxes are finite and inside it with labels in range, its segmentation map
    reads as class indices of its size with labels in range (or 255), its class label is in range."""
    try:
        image = read_image(record["img_path"])
    except BadSampleError as error:
        return [str(error)]
    problems = []
    height, width = image.shape[:2]
    recorded = (record.get("height"), record.get("width"))
    if None not in recorded and recorded != (height, width):
        problems.append(f"image is {height}x{width} (HxW), its annotation says {recorded[0]}x{recorded[1]}")
    num_classes = record["num_classes"]
    if "gt_bboxes" in record:
        problems += _box_problems(record["gt_bboxes"], record["gt_labels"], height, width, num_classes)
    if "seg_map_path" in record:
        problems += _seg_map_problems(record["seg_map_path"], (height, width), num_classes)
    label = record.get("gt_label")
    if label is not None and num_classes and not 0 <= int(label) < num_classes:
        problems.append(f"class label {label} is outside 0..{num_classes - 1}")
    return problems


def check_samples(records: Iterable[dict]) -> list[tuple[dict, list[str]]]:
    """The records of ``records`` that have problems, each with its problems."""
    return [(record, problems) for record in records if (problems := check_sample(record))]


_checked: Any = None  # the leaf data set this process checks: see use_dataset


def use_dataset(dataset: Any) -> None:
    """Make ``dataset`` the one :func:`check_range` reads (a forked worker pool's initializer: the
    workers share the parent's data set instead of receiving each record pickled)."""
    global _checked
    _checked = dataset


def check_range(bounds: tuple[int, int]) -> list[tuple[dict, list[str]]]:
    """:func:`check_samples` of items ``start..stop - 1`` of the data set given to :func:`use_dataset`."""
    return check_samples(sample_records(_checked, range(*bounds)))


def _box_problems(
    boxes: np.ndarray, labels: np.ndarray, height: int, width: int, num_classes: int
) -> list[str]:
    problems = []
    if not np.isfinite(boxes).all():
        problems.append(f"{int((~np.isfinite(boxes)).any(axis=1).sum())} boxes have non-finite coordinates")
    empty = (boxes[:, 2] <= boxes[:, 0]) | (boxes[:, 3] <= boxes[:, 1])
    if empty.any():
        problems.append(f"{int(empty.sum())} boxes have no area (x2 <= x1 or y2 <= y1)")
    outside = (boxes[:, :2] < 0).any(axis=1) | (boxes[:, 2] > width) | (boxes[:, 3] > height)
    if outside.any():
        problems.append(f"{int(outside.sum())} boxes reach outside the {height}x{width} image")
    bad = labels[(labels < 0) | (labels >= max(num_classes, 1))] if num_classes else labels[:0]
    if len(bad):
        problems.append(f"box labels {sorted(set(bad.tolist()))} are outside 0..{num_classes - 1}")
    return problems


def _seg_map_problems(path: str, image_shape: tuple[int, int], num_classes: int) -> list[str]:
    try:
        seg_map = read_seg_map(path)
    except BadSampleError as error:
        return [str(error)]
    problems = []
    if seg_map.shape != image_shape:
        problems.append(
            f"segmentation map '{path}' is {seg_map.shape[0]}x{seg_map.shape[1]}, its image "
            f"{image_shape[0]}x{image_shape[1]}"
        )
    values = np.unique(seg_map)
    bad = values[(values != IGNORE_LABEL) & ((values < 0) | (values >= num_classes))] if num_classes else []
    if len(bad):
        problems.append(
            f"segmentation map '{path}' has labels {bad.tolist()[:10]} outside 0..{num_classes - 1} "
            f"(and {IGNORE_LABEL}, ignore)"
        )
    return problems
