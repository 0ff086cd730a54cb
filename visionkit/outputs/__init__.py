"""Each task's predictions outside the model: fields, drawing, records, files and agreement
(:class:`TaskOutputs`, one per task, registered in :data:`~visionkit.registry.TASK_OUTPUTS`)."""

from .agreement import agreement_counts, agreement_ratios
from .base import (
    TaskOutputs,
    View,
    all_task_outputs,
    file_suffixes,
    outputs_annotated_in,
    outputs_predicted_in,
    own_task_only,
    summarize,
    task_outputs,
)
from .classification import ClassificationOutputs
from .detection import DetectionOutputs
from .segmentation import SegmentationOutputs

__all__ = [
    "ClassificationOutputs",
    "DetectionOutputs",
    "SegmentationOutputs",
    "TaskOutputs",
    "View",
    "agreement_counts",
    "agreement_ratios",
    "all_task_outputs",
    "file_suffixes",
    "outputs_annotated_in",
    "outputs_predicted_in",
    "own_task_only",
    "summarize",
    "task_outputs",
]
