"""Pipeline transforms: loading, albumentations, packing."""

from .albumentations import Albumentations, build_albumentation
from .build import build_pipeline
from .formatting import PackInputs
from .load_seg_map import LoadSegMap, read_seg_map
from .loading import LoadImage, read_image
from .ssd_augmentations import MinIoURandomCrop, ZoomOut

__all__ = [
    "Albumentations",
    "LoadImage",
    "LoadSegMap",
    "MinIoURandomCrop",
    "PackInputs",
    "ZoomOut",
    "build_albumentation",
    "build_pipeline",
    "read_image",
    "read_seg_map",
]
