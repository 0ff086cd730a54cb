"""How often two models predict the same thing on the same images (e.g. INT8 against float), for every
task present: each task's :class:`~.base.TaskOutputs` counts its own agreement
(:mod:`visionkit.evaluation.agreement` has the pure counting functions)."""

from __future__ import annotations

from collections.abc import Sequence

from ..structures import TASK_KEY, DataSample
from .base import all_task_outputs, outputs_predicted_in, task_outputs


def agreement_counts(
    reference: Sequence[DataSample],
    other: Sequence[DataSample],
    iou: float = 0.9,
    score_thr: float = 0.3,
    tasks: dict[str, str] | None = None,
) -> dict[str, int]:
    """Counts of every task whose predictions the samples hold (a multi-task sample holds several).

    ``tasks`` (a multi-task model's task name -> its kind, ``{'det': 'detection'}``): each task's own
    predictions on the samples of that task (metainfo ``task``), keys ``'<name>/<count>'``. Detections count
    from ``score_thr`` up; a match needs the same label and IoU >= ``iou``.
    """
    if tasks:
        counts: dict[str, int] = {}
        for name, kind in tasks.items():
            pairs = [
                (r, o) for r, o in zip(reference, other, strict=True) if r.metainfo.get(TASK_KEY) == name
            ]
            if pairs:
                own = task_outputs(kind).agreement_counts(*zip(*pairs, strict=True), iou, score_thr)
                counts.update({f"{name}/{key}": value for key, value in own.items()})
        return counts
    present = outputs_predicted_in(reference[0]) if reference else []
    return {
        k: v
        for outputs in present
        for k, v in outputs.agreement_counts(reference, other, iou, score_thr).items()
    }


def agreement_ratios(counts: dict[str, int]) -> dict[str, float]:
    """Summed :func:`agreement_counts` -> every task's ratios (``'<name>/<ratio>'`` for a multi-task
    model's)."""
    ratios = {}
    for prefix in dict.fromkeys(key.rpartition("/")[0] for key in counts):
        own = {k.rpartition("/")[2]: v for k, v in counts.items() if k.rpartition("/")[0] == prefix}
        for outputs in all_task_outputs():
            ratios.update(
                {f"{prefix}/{k}" if prefix else k: v for k, v in outputs.agreement_ratios(own).items()}
            )
    return ratios
