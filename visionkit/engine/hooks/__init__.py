"""visionkit's Runner hooks: checking for non-finite training, model vs data set, batch vs learning rate,
atomic checkpoints, pictures of test predictions."""

from .checkpoint_hook import CheckpointHook
from .class_count_check_hook import ClassCountCheckHook, ClassCountMismatchError
from .lr_scale_check_hook import LrScaleCheckHook, lr_scale_warning
from .non_finite_check_hook import NonFiniteCheckHook, NonFiniteError
from .progress_bar_hook import ProgressBarHook
from .visualization_hook import VisualizationHook

__all__ = [
    "CheckpointHook",
    "ClassCountCheckHook",
    "ClassCountMismatchError",
    "LrScaleCheckHook",
    "NonFiniteCheckHook",
    "NonFiniteError",
    "ProgressBarHook",
    "VisualizationHook",
    "lr_scale_warning",
]
