"""Building a dataset's pipeline from config dicts with visionkit's transform registry."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

from ...registry import TRANSFORMS

# Steps that read ground truth: an image without annotations (inference, calibration) skips them.
ANNOTATION_LOADERS = frozenset({"LoadSegMap"})


def build_pipeline(pipeline: Sequence[dict | Callable]) -> list[Callable]:
    """Build each ``dict(type=...)`` of ``pipeline`` from visionkit's ``TRANSFORMS``; keep callables.

    mmengine's ``BaseDataset`` would build the dicts from its own registry, which sees visionkit's
    transforms only under a default scope; building them here lets datasets be made from plain keyword
    arguments too (tests, notebooks).
    """
    return [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]


def without_annotation_loaders(pipeline: Sequence[dict]) -> list[dict]:
    """A copy of the config dicts of ``pipeline`` without the steps that read ground truth."""
    return [copy.deepcopy(step) for step in pipeline if step.get("type") not in ANNOTATION_LOADERS]
