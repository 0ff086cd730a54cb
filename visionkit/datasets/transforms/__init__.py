"""Pipeline transforms: loading, albumentations (with the reference recipes' crops and colour changes),
packing."""

from .albumentations import Albumentations, build_albumentation
from .build import build_pipeline
from .formatting import PackInputs
from .load_coco_semantic_map import LoadCocoSemanticMap, rasterize_instances
from .load_seg_map import LoadSegMap, read_seg_map
from .loading import LoadImage, read_image
from .photometric import InceptionColorDistortion, PhotoMetricDistortion
from .random_step_scale import RandomStepScale
from .ssd_augmentations import MinIoURandomCrop, RandomIoUCrop, ZoomOut
from .tf_crops import CentralCrop, DistortedBoundingBoxCrop, SSDRandomCrop
from .tf_resize import TFResize, tf_resize_bilinear
from .torchvision_eval import ResizeEdge, RoundedCenterCrop

__all__ = [
    "Albumentations",
    "CentralCrop",
    "DistortedBoundingBoxCrop",
    "InceptionColorDistortion",
    "LoadCocoSemanticMap",
    "LoadImage",
    "LoadSegMap",
    "MinIoURandomCrop",
    "PackInputs",
    "PhotoMetricDistortion",
    "RandomIoUCrop",
    "RandomStepScale",
    "ResizeEdge",
    "RoundedCenterCrop",
    "SSDRandomCrop",
    "TFResize",
    "ZoomOut",
    "build_albumentation",
    "build_pipeline",
    "rasterize_instances",
    "read_image",
    "read_seg_map",
    "tf_resize_bilinear",
]
