"""Building a dataset's pipeline from config dicts with visionkit's transform registry."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ...registry import TRANSFORMS


def build_pipeline(pipeline: Sequence[dict | Callable]) -> list[Callable]:
    """Build each ``dict(type=...)`` of ``pipeline`` from visionkit's ``TRANSFORMS``; keep callables.

    mmengine's ``BaseDataset`` would build the dicts from its own registry, which sees visionkit's
    transforms only under a default scope; building them here lets datasets be made from plain keyword
    arguments too (tests, notebooks).
    """
    return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
