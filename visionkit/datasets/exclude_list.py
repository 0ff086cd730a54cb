"""Leaving listed images out of a data set (the list ``tools/analysis/check_dataset.py`` writes).

Every visionkit data set takes ``exclude=FILE``: one image path per line, relative to the data set's
``data_root`` (as the checker writes them) or absolute; blank lines and ``#`` comments are skipped.
"""

from __future__ import annotations

import os

from mmengine.logging import print_log

from .data_root import require_path


def read_exclude_list(path: str) -> set[str]:
    """The normalised paths listed in ``path``."""
    require_path(path, "Exclude list")
    with open(path, encoding="utf-8") as f:
        lines = (line.split("#", 1)[0].strip() for line in f)
        return {os.path.normpath(line) for line in lines if line}


def relative_image_path(img_path: str, data_root: str | None) -> str:
    """``img_path`` as an exclude list names it: relative to ``data_root`` when inside it."""
    path = os.path.normpath(img_path)
    if data_root:
        relative = os.path.relpath(path, os.path.normpath(data_root))
        if not relative.startswith(os.pardir):
            return relative
    return path


def without_excluded(data_list: list[dict], exclude: str | None, data_root: str | None) -> list[dict]:
    """``data_list`` without the items whose ``img_path`` the file ``exclude`` lists (all if None).

    Logs how many were left out, and warns about listed paths that match no item (a list made for
    another data root or split).
    """
    if not exclude:
        return data_list
    listed = read_exclude_list(exclude)
    kept, matched = [], set()
    for item in data_list:
        relative = relative_image_path(item["img_path"], data_root)
        absolute = os.path.normpath(os.path.abspath(item["img_path"]))
        hit = relative if relative in listed else absolute if absolute in listed else None
        if hit is None:
            kept.append(item)
        else:
            matched.add(hit)
    unmatched = sorted(listed - matched)
    print_log(
        f"{exclude}: left out {len(data_list) - len(kept)} of {len(data_list)} images"
        + (f"; {len(unmatched)} listed paths match none, e.g. {unmatched[0]}" if unmatched else ""),
        logger="current",
        level=30 if unmatched else 20,
    )
    return kept
