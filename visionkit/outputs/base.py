"""What each task's predictions are outside the model: which :class:`DataSample` fields hold them, how
they are drawn, written and listed, and how two models' predictions are compared.

A task model names its kind of task (``ImageClassifier.kind == 'classification'``); the
:class:`TaskOutputs` registered under that kind in :data:`~visionkit.registry.TASK_OUTPUTS` declares the
task's fields once, and every consumer (the visualizer and its test hook, ``tools/infer.py``, the agreement
check) goes through it, so a new task adds one outputs class and touches none of them (docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..registry import TASK_OUTPUTS
from ..structures import DataSample


@dataclass(frozen=True)
class View:
    """How predictions are shown: class names, colours and the thresholds a person reads them at.

    ``classes``: class names by index (missing names show as the index); ``palette``: RGB colour per class;
    ``score_thr``: detections scoring below it are not drawn, listed or compared; ``topk``: classes listed
    per image; ``legend_inside``: captions and legends go over the image's top-left corner instead of a strip
    to its right, so a drawing keeps the image's size (video frames).
    """

    classes: Sequence[str] = ()
    palette: Sequence[Sequence[int]] | None = None
    score_thr: float = 0.3
    topk: int = 5
    legend_inside: bool = False

    def name(self, label: int) -> str:
        return self.classes[label] if 0 <= label < len(self.classes) else f"class_{label}"


def as_numpy(value: Any) -> np.ndarray:
    """A tensor (any device) or array-like as a numpy array."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)


class TaskOutputs:
    """One kind of task's fields and what the tools do with them; subclasses register under the kind.

    Class attributes: ``kind`` (the task models' ``kind``), ``gt_fields`` / ``pred_fields`` (the
    :class:`DataSample` fields of its annotations and predictions), ``record_key`` (its entry in a record of
    :meth:`record`: ``tools/infer.py``'s ``predictions.json``) and ``file_suffixes`` (what :meth:`write` may
    write per image, as ``<stem><suffix>``).
    """

    kind: ClassVar[str] = ""
    gt_fields: ClassVar[tuple[str, ...]] = ()
    pred_fields: ClassVar[tuple[str, ...]] = ()
    record_key: ClassVar[str] = ""
    file_suffixes: ClassVar[tuple[str, ...]] = ()

    def predicted_in(self, sample: DataSample) -> bool:
        return bool(self.pred_fields) and all(field in sample for field in self.pred_fields)

    def annotated_in(self, sample: DataSample) -> bool:
        return bool(self.gt_fields) and all(field in sample for field in self.gt_fields)

    def draw_ground_truth(
        self, image: np.ndarray, sample: DataSample, view: View, at_input_size: bool = False
    ) -> np.ndarray:
        """``image`` (H, W, 3) uint8 RGB with the annotations: the original image (annotations scaled to
        ``ori_shape``), or with ``at_input_size`` the network input after the pipeline."""
        raise NotImplementedError

    def draw_prediction(self, image: np.ndarray, sample: DataSample, view: View) -> np.ndarray:
        """The original ``image`` (H, W, 3) uint8 RGB with the predictions drawn."""
        raise NotImplementedError

    def record(self, sample: DataSample, view: View) -> Any:
        """The predictions as JSON-able data (class names, not indices)."""
        raise NotImplementedError

    def summary(self, record: Any, view: View) -> str:
        """One line saying what :meth:`record` found (``2 circle, 1 star``)."""
        raise NotImplementedError

    def write(self, stem: Path, image: np.ndarray, sample: DataSample, view: View) -> Any:
        """Write this task's files for one image (``<stem><suffix>``, suffixes of ``file_suffixes``) and
        return its record. Default: no files, :meth:`record`."""
        return self.record(sample, view)

    def agreement_counts(
        self, reference: Sequence[DataSample], other: Sequence[DataSample], iou: float, score_thr: float
    ) -> dict[str, int]:
        """(agreeing, total)-style counts of ``other``'s predictions against ``reference``'s, image by image;
        counts add up over batches."""
        raise NotImplementedError

    def agreement_ratios(self, counts: dict[str, int]) -> dict[str, float]:
        """Summed :meth:`agreement_counts` -> ratios."""
        raise NotImplementedError


def task_outputs(kind: str) -> TaskOutputs:
    """The outputs of the task ``kind`` (a task model's ``kind``)."""
    return TASK_OUTPUTS.get(kind)()


def all_task_outputs() -> list[TaskOutputs]:
    """Every registered task's outputs."""
    TASK_OUTPUTS.import_from_location()
    return [cls() for cls in TASK_OUTPUTS.module_dict.values()]


def outputs_predicted_in(sample: DataSample) -> list[TaskOutputs]:
    """The tasks whose predictions ``sample`` holds (a multi-task prediction holds several)."""
    return [outputs for outputs in all_task_outputs() if outputs.predicted_in(sample)]


def outputs_annotated_in(sample: DataSample) -> list[TaskOutputs]:
    """The tasks whose annotations ``sample`` holds."""
    return [outputs for outputs in all_task_outputs() if outputs.annotated_in(sample)]


def own_task_only(sample: DataSample) -> DataSample:
    """A copy of a multi-task prediction with only the predictions of the tasks its image is annotated for."""
    reduced = sample.clone()
    for outputs in all_task_outputs():
        if not outputs.annotated_in(sample):
            for field in outputs.pred_fields:
                if field in reduced:
                    del reduced[field]
    return reduced


def summarize(sample: DataSample, record: dict[str, Any], view: View) -> str:
    """What a record of ``sample``'s predictions (each task's :meth:`TaskOutputs.record` under its
    ``record_key``) says was found, in words, task by task: ``2 circle, 1 star``, ``no detections above 0.3``,
    ``circle 12.5% of the pixels`` or the top-k classes and scores."""
    return "; ".join(
        outputs.summary(record[outputs.record_key], view) for outputs in outputs_predicted_in(sample)
    )


def file_suffixes() -> tuple[str, ...]:
    """Every file suffix any task's :meth:`TaskOutputs.write` may write per image."""
    return tuple(dict.fromkeys(s for outputs in all_task_outputs() for s in outputs.file_suffixes))
