"""Errors that mean "your file or setting is wrong": the tools print their message, not a traceback."""

from __future__ import annotations

from ..datasets.coco_checks import AnnotationError
from ..datasets.data_root import MissingDataError
from ..models.checkpoint import CheckpointMismatchError, CheckpointReadError
from ..models.checkpoint_fetch import CheckpointFetchError
from ..models.dataset_meta_checks import MetainfoError
from .hooks import ClassCountMismatchError, NonFiniteError

# Each message names the file or config key at fault and what to do.
USER_ERRORS: tuple[type[Exception], ...] = (
    AnnotationError,
    CheckpointFetchError,
    CheckpointMismatchError,
    CheckpointReadError,
    ClassCountMismatchError,
    MetainfoError,
    MissingDataError,
    NonFiniteError,
)
