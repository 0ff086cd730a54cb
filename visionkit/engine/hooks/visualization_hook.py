"""Write each test image as a PNG: ground truth beside prediction (``tools/test.py --show-dir``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
from mmengine.hooks import Hook

from ...datasets.transforms import read_image
from ...registry import HOOKS
from ...structures import DataSample
from ...structures.data_sample import TASK_KEY
from ...visualization.comparison import draw_ground_truth_and_prediction

# Ground-truth field -> the prediction fields of the same task.
PREDICTIONS_OF = {
    "gt_bboxes": ("pred_bboxes", "pred_scores", "pred_labels"),
    "gt_seg_map": ("pred_seg_map",),
    "gt_label": ("pred_score", "pred_label"),
}


def own_task_only(sample: DataSample) -> DataSample:
    """A multi-task prediction reduced to the task its image is annotated for (whose classes it uses)."""
    keep = {field for gt, fields in PREDICTIONS_OF.items() if gt in sample for field in fields}
    reduced = sample.clone()
    for fields in PREDICTIONS_OF.values():
        for field in fields:
            if field in reduced and field not in keep:
                del reduced[field]
    return reduced


def _dataset_metainfo(runner: Any) -> dict:
    return dict(getattr(runner.test_dataloader.dataset, "metainfo", {}) or {})


@HOOKS.register_module()
class VisualizationHook(Hook):
    """After each test iteration, draw every sample (:func:`draw_ground_truth_and_prediction`) to ``out_dir``.

    Files are named after the image (``<out_dir>/<image file stem>.png``; a multi-task sample goes under
    ``<out_dir>/<task>/``). ``max_images`` stops after that many pictures (None: every test image).

    Args:
        out_dir: folder for the PNGs (created).
        score_thr: detection boxes scoring below it are not drawn.
        max_images: how many pictures at most, per process.
    """

    priority = "LOW"

    def __init__(self, out_dir: str, score_thr: float = 0.3, max_images: int | None = None) -> None:
        self.out_dir = Path(out_dir)
        self.score_thr = score_thr
        self.max_images = max_images
        self.written = 0

    def _classes_and_palette(self, metainfo: dict, sample: DataSample) -> tuple[Sequence[str], Any]:
        task = sample.metainfo.get(TASK_KEY)
        if task is not None:
            metainfo = (metainfo.get("tasks") or {}).get(task, {})
        classes = list(metainfo.get("classes") or [])
        return classes, metainfo.get("palette")

    def after_test_iter(
        self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Sequence[DataSample] | None = None
    ) -> None:
        metainfo = _dataset_metainfo(runner)
        for sample in outputs or []:
            if self.max_images is not None and self.written >= self.max_images:
                return
            path = sample.metainfo["img_path"]
            classes, palette = self._classes_and_palette(metainfo, sample)
            if sample.metainfo.get(TASK_KEY) is not None:
                sample = own_task_only(sample)
            picture = draw_ground_truth_and_prediction(
                read_image(path), sample, classes, palette, self.score_thr
            )
            folder = self.out_dir / sample.metainfo.get(TASK_KEY, "")
            folder.mkdir(parents=True, exist_ok=True)
            target = folder / f"{os.path.splitext(os.path.basename(path))[0]}.png"
            if not cv2.imwrite(str(target), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR)):
                raise OSError(f"Cannot write '{target}'")
            self.written += 1
