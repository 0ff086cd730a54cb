"""Reading semantic segmentation label maps (VOC palette PNGs) into the pipeline's ``results``."""

from __future__ import annotations

import numpy as np
from PIL import Image, UnidentifiedImageError

from ...registry import TRANSFORMS
from ..bad_samples import BadSampleError

# PIL modes whose pixel values are class indices. 'P' (palette) is VOC's SegmentationClass format: the
# raw indices are the labels and the palette only colours them; 'L' is SegmentationClassAug's.
INDEX_MODES = ("P", "L", "I", "I;16")


def read_seg_map(path: str) -> np.ndarray:
    """Read a label PNG as (H, W) int64 class indices (palette indices for mode 'P', not colours).

    Raises :class:`BadSampleError` (an ``OSError`` and a ``ValueError``) naming the file if it is missing
    or unreadable, or holds colours (RGB) instead of indices.
    """
    try:
        with Image.open(path) as image:
            image.load()
            mode, indices = image.mode, np.asarray(image)
    except (OSError, UnidentifiedImageError) as error:
        raise BadSampleError(f"Cannot read segmentation map '{path}': {error}") from error
    if mode not in INDEX_MODES:
        raise BadSampleError(
            f"Segmentation map '{path}' has PIL mode '{mode}'; expected class indices in a palette ('P') "
            f"or grayscale ('L') PNG. Convert colour masks to indices first."
        )
    return indices.astype(np.int64)


@TRANSFORMS.register_module()
class LoadSegMap:
    """``results['seg_map_path']`` -> ``gt_seg_map`` (H, W) int64 (255 = ignore, as written in VOC).

    The map must have the image's original size (``ori_shape``, set by ``LoadImage``); a mismatch
    raises :class:`BadSampleError` (a ``ValueError``) naming both files. Put it before or after
    geometric transforms: the ``Albumentations`` wrapper transforms a ``gt_seg_map`` that is already
    loaded together with the image, and one loaded after them stays at the original size (what
    :class:`IoUMetric` compares at).
    """

    def __call__(self, results: dict) -> dict:
        path = results["seg_map_path"]
        seg_map = read_seg_map(path)
        expected = results.get("ori_shape")
        if expected is not None and tuple(seg_map.shape) != tuple(expected):
            raise BadSampleError(
                f"Segmentation map '{path}' is {seg_map.shape[0]}x{seg_map.shape[1]} (HxW) but its image "
                f"'{results.get('img_path')}' is {expected[0]}x{expected[1]}: they must be the same size"
            )
        results["gt_seg_map"] = seg_map
        return results

    def __repr__(self) -> str:
        return "LoadSegMap()"
