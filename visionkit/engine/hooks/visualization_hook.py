"""Write each test image as a PNG: ground truth beside prediction (``tools/test.py --show-dir``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mmengine.hooks import Hook

from ...datasets.transforms import read_image
from ...outputs import own_task_only
from ...registry import HOOKS
from ...structures import DataSample
from ...structures.data_sample import TASK_KEY
from ...visualization.comparison import draw_ground_truth_and_prediction
from ...visualization.draw import write_rgb


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
            write_rgb(target, picture)
            self.written += 1
