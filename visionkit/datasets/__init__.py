"""Datasets on their real on-disk formats, and their pipeline transforms."""

from . import transforms
from .image_folder import ImageFolderDataset, ImageNetDataset

__all__ = ["ImageFolderDataset", "ImageNetDataset", "transforms"]
