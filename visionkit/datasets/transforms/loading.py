"""Reading images from disk into the pipeline's ``results`` dict."""

from __future__ import annotations

import cv2
import numpy as np

from ...registry import TRANSFORMS
from ..bad_samples import BadSampleError


def read_image(path: str) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB; raise :class:`BadSampleError` (an ``OSError``) naming the
    file if it cannot."""
    data = np.fromfile(path, dtype=np.uint8) if _exists(path) else None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data is not None and data.size else None
    if image is None:
        reason = "file not found" if data is None else "empty, corrupt or not an image"
        raise BadSampleError(f"Cannot read image '{path}': {reason}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _exists(path: str) -> bool:
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


@TRANSFORMS.register_module()
class LoadImage:
    """``results['img_path']`` -> ``img`` (H, W, 3) uint8 RGB, ``ori_shape`` and ``img_shape`` (H, W).

    When the data set recorded the image's ``height`` and ``width`` (COCO's JSON does) and the file
    decodes to another size, boxes would no longer sit on the image: that raises :class:`BadSampleError`
    (a ``ValueError``) naming the file, the image id and both sizes.
    """

    def __call__(self, results: dict) -> dict:
        image = read_image(results["img_path"])
        recorded = (results.get("height"), results.get("width"))
        if None not in recorded and tuple(recorded) != image.shape[:2]:
            raise BadSampleError(
                f"Image '{results['img_path']}' (image id {results.get('img_id')}) is {image.shape[0]}x"
                f"{image.shape[1]} (HxW) but its annotation file says {recorded[0]}x{recorded[1]}: fix the "
                "file's width/height, or the image (an EXIF rotation turns it)"
            )
        results["img"] = image
        results["ori_shape"] = results["img_shape"] = image.shape[:2]
        return results

    def __repr__(self) -> str:
        return "LoadImage()"
