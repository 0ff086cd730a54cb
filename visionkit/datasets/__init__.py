"""Datasets on their real on-disk formats, and their pipeline transforms."""

from . import transforms
from .coco import CocoDetection
from .image_folder import ImageFolderDataset, ImageNetDataset

__all__ = [
    "CocoDetection",
    "ImageFolderDataset",
    "ImageNetDataset",
    "transforms",
]
