"""Pipeline transforms: loading, albumentations, packing."""

from .albumentations import Albumentations, build_albumentation
from .build import build_pipeline
from .formatting import PackInputs
from .loading import LoadImage, read_image
from .ssd_augmentations import MinIoURandomCrop, ZoomOut

__all__ = [
    "Albumentations",
    "LoadImage",
    "MinIoURandomCrop",
    "PackInputs",
    "ZoomOut",
    "build_albumentation",
    "build_pipeline",
    "read_image",
]
