"""Datasets on their real on-disk formats, and their pipeline transforms."""

from . import samplers, transforms
from .coco import CocoDetection
from .coco_voc_segmentation import CocoVOCSegmentation
from .image_folder import ImageFolderDataset, ImageNetDataset
from .multi_task_dataset import MultiTaskDataset
from .samplers import TaskBatchSampler
from .voc_segmentation import VOC_CLASSES, VOCSegmentation

__all__ = [
    "VOC_CLASSES",
    "CocoDetection",
    "CocoVOCSegmentation",
    "ImageFolderDataset",
    "ImageNetDataset",
    "MultiTaskDataset",
    "TaskBatchSampler",
    "VOCSegmentation",
    "samplers",
    "transforms",
]
