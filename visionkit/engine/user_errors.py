"""Errors that mean "your file or setting is wrong": the tools print their message, not a traceback."""

from __future__ import annotations

from ..datasets.bad_samples import BadSampleError
from ..datasets.coco_checks import AnnotationError
from ..datasets.data_root import MissingDataError
from ..models.checkpoint import CheckpointMismatchError, CheckpointReadError
from ..models.checkpoint_fetch import CheckpointFetchError
from ..models.dataset_meta_checks import MetainfoError
from .checkpoint_io import CheckpointWriteError
from .hooks import ClassCountMismatchError, NonFiniteError

# Each message names the file or config key at fault and what to do.
USER_ERRORS: tuple[type[Exception], ...] = (
    AnnotationError,
    BadSampleError,
    CheckpointFetchError,
    CheckpointMismatchError,
    CheckpointReadError,
    CheckpointWriteError,
    ClassCountMismatchError,
    MetainfoError,
    MissingDataError,
    NonFiniteError,
)
