"""Pipeline transforms: loading, albumentations, packing."""

from .albumentations import Albumentations, build_albumentation
from .formatting import PackInputs
from .loading import LoadImage, read_image

__all__ = ["Albumentations", "LoadImage", "PackInputs", "build_albumentation", "read_image"]
