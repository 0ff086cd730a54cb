"""Classification's outputs: ``gt_label`` (int); ``pred_score`` (K,) softmax and ``pred_label`` (int)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..evaluation.agreement import top1_agreement
from ..registry import TASK_OUTPUTS
from ..structures import DataSample
from ..visualization.draw import draw_text_rows
from .base import TaskOutputs, View, as_numpy


@TASK_OUTPUTS.register_module(name="classification")
class ClassificationOutputs(TaskOutputs):
    """The class as a caption beside the image; the top-k classes and scores as the record."""

    kind = "classification"
    gt_fields = ("gt_label",)
    pred_fields = ("pred_score", "pred_label")
    record_key = "classification"

    def draw_ground_truth(
        self, image: np.ndarray, sample: DataSample, view: View, at_input_size: bool = False
    ) -> np.ndarray:
        return draw_text_rows(image, [(view.name(int(as_numpy(sample.gt_label).reshape(-1)[0])), None)])

    def draw_prediction(self, image: np.ndarray, sample: DataSample, view: View) -> np.ndarray:
        scores = as_numpy(sample.pred_score)
        top = int(scores.argmax())
        return draw_text_rows(
            image, [(f"{view.name(top)} {scores[top]:.2f}", None)], inside=view.legend_inside
        )

    def record(self, sample: DataSample, view: View) -> list[dict[str, Any]]:
        """The ``view.topk`` best classes: ``[{'label': name, 'score': probability}, ...]``."""
        scores = sample.pred_score.detach().cpu().float()
        top = scores.topk(min(view.topk, len(scores)))
        return [
            {"label": view.name(int(i)), "score": float(s)}
            for s, i in zip(top.values, top.indices, strict=True)
        ]

    def summary(self, record: list[dict[str, Any]], view: View) -> str:
        return ", ".join(f"{p['label']} {p['score']:.3f}" for p in record)

    def agreement_counts(
        self, reference: Sequence[DataSample], other: Sequence[DataSample], iou: float, score_thr: float
    ) -> dict[str, int]:
        same, images = top1_agreement(reference, other)
        return {"top1_same": same, "images": images}

    def agreement_ratios(self, counts: dict[str, int]) -> dict[str, float]:
        return {"top1_agreement": counts["top1_same"] / counts["images"]} if counts.get("images") else {}
