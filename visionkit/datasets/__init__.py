"""Datasets on their real on-disk formats, and their pipeline transforms."""

from . import samplers, transforms
from .bad_samples import BadSampleError
from .coco import CocoDetection
from .coco_voc_segmentation import CocoVOCSegmentation
from .image_folder import ImageFolderDataset, ImageNetDataset
from .multi_task_dataset import MultiTaskDataset
from .samplers import DefaultSampler, InfiniteSampler, TaskBatchSampler
from .seeded_dataset import SeededDataset
from .voc_segmentation import VOC_CLASSES, VOCSegmentation

__all__ = [
    "VOC_CLASSES",
    "BadSampleError",
    "CocoDetection",
    "CocoVOCSegmentation",
    "DefaultSampler",
    "ImageFolderDataset",
    "ImageNetDataset",
    "InfiniteSampler",
    "MultiTaskDataset",
    "SeededDataset",
    "TaskBatchSampler",
    "VOCSegmentation",
    "samplers",
    "transforms",
]
