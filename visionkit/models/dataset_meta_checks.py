"""Checking the ``dataset_meta`` a file brings (a checkpoint's ``meta``, an exported model's metadata).

A checkpoint or exported model carries the class names and colours it was trained with, and visionkit
hands them to numpy, PIL and the metrics. From a file they are hostile until checked: a palette entry that
answered numpy's ``__array_interface__`` made numpy read any address (a crash, or heap bytes shown as
colours), a palette of strings or of 300 failed deep inside drawing. :func:`checked_metainfo` accepts the
fields visionkit reads in the forms its data sets write them and returns them as plain Python values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .untrusted_text import shown

MAX_CLASSES = 100_000


class MetainfoError(ValueError):
    """A file's ``dataset_meta`` is not in the form visionkit's data sets write."""


def _sequence(value: Any) -> list | None:
    if type(value) in (list, tuple):
        return list(value)
    if type(value) is np.ndarray and value.dtype.kind in "iu":
        return value.tolist()
    return None


def _is_int(value: Any) -> bool:
    return type(value) is int or isinstance(value, np.integer)


def _classes(value: Any) -> tuple[str, ...] | None:
    items = _sequence(value)
    if items is None or len(items) > MAX_CLASSES or not all(type(c) is str and len(c) <= 256 for c in items):
        return None
    return tuple(items)


def _palette(value: Any) -> list[list[int]] | None:
    rows = _sequence(value)
    if rows is None or len(rows) > MAX_CLASSES:
        return None
    colours = [_sequence(row) for row in rows]
    if not all(
        c is not None and len(c) == 3 and all(_is_int(v) and 0 <= v <= 255 for v in c) for c in colours
    ):
        return None
    return [[int(v) for v in c] for c in colours]


def _cat_ids(value: Any) -> list[int] | None:
    items = _sequence(value)
    return [int(i) for i in items] if items is not None and all(_is_int(i) for i in items) else None


def _task_sizes(value: Any) -> dict[str, int] | None:
    if type(value) is not dict or not all(type(k) is str and _is_int(v) for k, v in value.items()):
        return None
    return {k: int(v) for k, v in value.items()}


_FIELDS = {
    "classes": (_classes, "a list of class names (strings)"),
    "palette": (_palette, "a list of [r, g, b] colours, ints from 0 to 255"),
    "cat_ids": (_cat_ids, "a list of integer category ids"),
    "label_cat_ids": (_cat_ids, "a list of integer category ids"),
    "ann_file": (lambda v: v if type(v) is str else None, "a path (a string)"),
    "task_sizes": (_task_sizes, "task name -> number of images"),
}


def checked_metainfo(meta: Any, source: str, nested: bool = True) -> dict[str, Any]:
    """``meta`` with ``classes``, ``palette``, ``cat_ids``, ``label_cat_ids``, ``ann_file``, ``task_sizes``
    and each task's own (under ``tasks``) checked and made plain; other keys are kept as they are. ``None``
    gives ``{}``.

    Raises:
        MetainfoError: a field is not in the form above; the message names ``source`` and the field.
    """
    if meta is None:
        return {}
    if type(meta) is not dict:
        raise MetainfoError(f"{source}: its dataset_meta is a {type(meta).__name__}, not a dict")
    checked = dict(meta)
    for key, (check, form) in _FIELDS.items():
        if key in meta:
            checked[key] = check(meta[key])
            if checked[key] is None:
                raise MetainfoError(
                    f"{source}: its dataset_meta['{key}'] ({shown(meta[key])}) is not {form}; the file was "
                    "not written by visionkit or was changed since"
                )
    if "tasks" in meta:
        tasks = meta["tasks"]
        if not nested or type(tasks) is not dict or not all(type(name) is str for name in tasks):
            raise MetainfoError(f"{source}: its dataset_meta['tasks'] is not task name -> dataset_meta")
        checked["tasks"] = {
            name: checked_metainfo(m, f"{source} (task {shown(name)})", False) for name, m in tasks.items()
        }
    return checked
