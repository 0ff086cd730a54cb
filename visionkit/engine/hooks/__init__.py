"""visionkit's Runner hooks: checking for non-finite training, model vs data set, atomic checkpoints,
pictures of test predictions."""

from .checkpoint_hook import CheckpointHook
from .class_count_check_hook import ClassCountCheckHook, ClassCountMismatchError
from .non_finite_check_hook import NonFiniteCheckHook, NonFiniteError
from .progress_bar_hook import ProgressBarHook
from .visualization_hook import VisualizationHook

__all__ = [
    "CheckpointHook",
    "ClassCountCheckHook",
    "ClassCountMismatchError",
    "NonFiniteCheckHook",
    "NonFiniteError",
    "ProgressBarHook",
    "VisualizationHook",
]
