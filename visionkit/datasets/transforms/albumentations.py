"""Albumentations pipelines inside mmengine's dataset pipeline.

A config lists albumentations transforms as dicts, e.g.
``dict(type='Albumentations', transforms=[dict(type='RandomResizedCrop', size=(224, 224)),
dict(type='HorizontalFlip', p=0.5)])``. ``type`` names a class of ``albumentations`` or one that
visionkit registers in ``TRANSFORMS`` as an albumentations transform; a dict with ``transforms`` builds
a composition (``OneOf``, ``SomeOf``...) recursively.
"""

from __future__ import annotations

import difflib
import os
import random
from typing import Any

import numpy as np
import torch

from ...registry import TRANSFORMS
from ..sample_seeds import current_sample_seed

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
import albumentations as A


def build_albumentation(cfg: dict) -> A.BasicTransform | A.BaseCompose:
    """Build one albumentations transform from ``dict(type=..., **kwargs)``."""
    cfg = dict(cfg)
    name = cfg.pop("type")
    if "transforms" in cfg:
        cfg["transforms"] = [build_albumentation(t) for t in cfg["transforms"]]
    cls = TRANSFORMS.module_dict.get(name) or getattr(A, name, None)
    if cls is None or not isinstance(cls, type):
        names = [n for n in dir(A) if n[:1].isupper()]
        close = difflib.get_close_matches(name, names, n=3)
        raise KeyError(
            f"Unknown albumentations transform '{name}'"
            + (f"; did you mean {', '.join(close)}?" if close else "")
        )
    return cls(**cfg)


@TRANSFORMS.register_module()
class Albumentations:
    """Run an ``albumentations.Compose`` on ``results``: ``img`` always, plus ``gt_seg_map`` (as the
    mask) and ``gt_bboxes`` (N, 4) xyxy pixels with ``gt_labels`` (N,) when present.

    Labels come back as int64 (albumentations 2.x returns floats for label lists) and boxes removed by
    the transforms are removed together with their labels.

    Random draws: in training, each sample is loaded under a seed of its own (visionkit's samplers and
    :class:`~visionkit.datasets.seeded_dataset.SeededDataset`), and every call draws its generators' seed
    from Python's ``random``, which that seed has just seeded; so a sample's augmentation depends on the
    run's seed, its epoch and its place in the data order only, not on which worker loads it, and a
    resumed run repeats it. Otherwise (evaluation, another sampler) the draws are seeded from the data
    loader worker's seed (``get_worker_info().seed``), or from ``torch.initial_seed()`` outside workers,
    so two workers never repeat each other's (albumentations alone seeds from the OS, and forked workers
    would share one generator state).

    Args:
        transforms: albumentations transforms as config dicts.
        min_visibility: boxes keeping less than this fraction of their area are dropped.
    """

    def __init__(self, transforms: list[dict], min_visibility: float = 0.0) -> None:
        self.transforms = transforms
        bbox_params = A.BboxParams(
            format="pascal_voc", label_fields=["labels"], min_visibility=min_visibility, clip=True
        )
        self.pipeline = A.Compose([build_albumentation(t) for t in transforms], bbox_params=bbox_params)
        self._seeded_for: int | None = None

    def _seed_for_this_process(self) -> None:
        if current_sample_seed() is not None:  # a seeded sample: draw anew on every call
            self.pipeline.set_random_seed(random.getrandbits(32))
            self._seeded_for = None
            return
        worker = torch.utils.data.get_worker_info()
        # Not torch.initial_seed() in a worker: mmengine's worker_init_fn re-seeds torch with the same
        # value every epoch; the worker's own seed changes with each epoch's iterator.
        seed = worker.seed if worker is not None else torch.initial_seed()
        if seed != self._seeded_for:
            self.pipeline.set_random_seed(seed % 2**32)
            self._seeded_for = seed

    def __call__(self, results: dict) -> dict:
        self._seed_for_this_process()
        inputs: dict[str, Any] = {"image": results["img"]}
        has_boxes = "gt_bboxes" in results
        if "gt_seg_map" in results:
            inputs["mask"] = results["gt_seg_map"]
        boxes = np.asarray(results.get("gt_bboxes", np.zeros((0, 4))), dtype=np.float32).reshape(-1, 4)
        inputs["bboxes"] = boxes
        inputs["labels"] = np.asarray(results.get("gt_labels", np.zeros(len(boxes))), dtype=np.int64)
        out = self.pipeline(**inputs)
        results["img"] = out["image"]
        results["img_shape"] = out["image"].shape[:2]
        if "mask" in inputs:
            results["gt_seg_map"] = out["mask"]
        if has_boxes:
            results["gt_bboxes"] = np.asarray(out["bboxes"], dtype=np.float32).reshape(-1, 4)
            results["gt_labels"] = np.asarray(out["labels"]).astype(np.int64).reshape(-1)
        return results

    def __repr__(self) -> str:
        return f"Albumentations({self.pipeline.transforms})"
