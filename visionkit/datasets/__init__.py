"""Datasets on their real on-disk formats, and their pipeline transforms."""

from . import transforms
from .coco import CocoDetection
from .image_folder import ImageFolderDataset, ImageNetDataset
from .voc_segmentation import VOC_CLASSES, VOCSegmentation

__all__ = [
    "VOC_CLASSES",
    "CocoDetection",
    "ImageFolderDataset",
    "ImageNetDataset",
    "VOCSegmentation",
    "transforms",
]
