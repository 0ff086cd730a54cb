"""Drawing primitives for the toy data sets: photo backgrounds and filled shapes with exact masks.

Coordinates are pixels, x to the right and y down. Masks are (H, W) bool arrays and boxes are
``(x1, y1, x2, y2)`` pixel edges, so a box spans ``x2 - x1`` pixel columns. All randomness comes from
a passed :class:`numpy.random.Generator`, so a seed fixes every image.
"""

import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache

import cv2
import numpy as np
from skimage import data as skimage_data

TOY_CLASSES: tuple[str, ...] = ("circle", "square", "star", "triangle")
JPEG_QUALITY = 90

# Photos bundled with scikit-image (no download needed); grey ones are stacked to RGB.
_PHOTOS = (
    "astronaut",
    "brick",
    "camera",
    "chelsea",
    "coffee",
    "coins",
    "grass",
    "gravel",
    "immunohistochemistry",
    "rocket",
)
_SHIFT = 4  # OpenCV fractional bits: sub-pixel vertices are passed multiplied by 2**_SHIFT
_STAR_INNER_RATIO = 0.45  # inner / outer radius; fatter than a regular star so small stars stay visible


def sample_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """Generator for one sample, so each file can be re-drawn on its own from (seed, split, index)."""
    return np.random.default_rng([seed, zlib.crc32(split.encode()), index])


@cache
def _photos() -> tuple[np.ndarray, ...]:
    photos = []
    for name in _PHOTOS:
        photo = getattr(skimage_data, name)()
        if photo.ndim == 2:
            photo = np.repeat(photo[..., None], 3, axis=-1)
        photos.append(np.ascontiguousarray(photo[..., :3]))
    return tuple(photos)


def random_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random crop (scale, position, flip, colour shift) of a bundled photo, (height, width, 3) uint8."""
    photos = _photos()
    photo = photos[rng.integers(len(photos))]
    photo_h, photo_w = photo.shape[:2]
    # Largest window with the target aspect ratio, shrunk by a random scale.
    scale = rng.uniform(0.3, 1.0)
    crop_w = max(8, int(scale * min(photo_w, photo_h * width / height)))
    crop_h = max(8, min(photo_h, int(crop_w * height / width)))
    x0 = rng.integers(photo_w - crop_w + 1)
    y0 = rng.integers(photo_h - crop_h + 1)
    crop = photo[y0 : y0 + crop_h, x0 : x0 + crop_w]
    interpolation = cv2.INTER_AREA if crop_w > width else cv2.INTER_LINEAR
    image = cv2.resize(crop, (width, height), interpolation=interpolation)
    if rng.random() < 0.5:
        image = image[:, ::-1]
    gain = rng.uniform(0.75, 1.25, size=3)
    offset = rng.uniform(-25, 25)
    return np.clip(image * gain + offset, 0, 255).astype(np.uint8)


def _polygon(name: str, center: tuple[float, float], size: float, angle: float) -> np.ndarray:
    """(N, 2) vertices (x, y) of a polygonal shape inscribed in a circle of diameter ``size``."""
    if name == "square":
        radii, start = np.full(4, size / 2), np.pi / 4  # corners on the diagonals: axis aligned at angle 0
    elif name == "triangle":
        radii, start = np.full(3, size / 2), np.pi / 2  # apex up
    elif name == "star":
        radii, start = np.tile([size / 2, size / 2 * _STAR_INNER_RATIO], 5), np.pi / 2
    else:
        raise ValueError(f"unknown shape {name!r}, expected one of {TOY_CLASSES}")
    theta = start + np.deg2rad(angle) + 2 * np.pi * np.arange(len(radii)) / len(radii)
    # Minus sine: image y grows downwards, so positive angles turn counter-clockwise on screen.
    return np.stack([center[0] + radii * np.cos(theta), center[1] - radii * np.sin(theta)], axis=1)


def shape_mask(
    name: str, image_shape: tuple[int, int], center: tuple[float, float], size: float, angle: float = 0.0
) -> np.ndarray:
    """(H, W) bool mask of a filled shape, clipped to the image.

    ``center`` is (x, y) in pixels, ``size`` the diameter in pixels of the circle the shape is inscribed
    in (a circle's diameter, a square's diagonal) and ``angle`` a rotation in degrees, counter-clockwise.
    """
    mask = np.zeros(image_shape, dtype=np.uint8)
    if name == "circle":
        center_fixed = tuple(round(c * 2**_SHIFT) for c in center)
        radius_fixed = round(size / 2 * 2**_SHIFT)
        cv2.circle(mask, center_fixed, radius_fixed, 1, thickness=-1, lineType=cv2.LINE_8, shift=_SHIFT)
    else:
        vertices = np.round(_polygon(name, center, size, angle) * 2**_SHIFT).astype(np.int32)
        cv2.fillPoly(mask, [vertices], 1, lineType=cv2.LINE_8, shift=_SHIFT)
    return mask.astype(bool)


def random_angle(rng: np.random.Generator, name: str) -> float:
    """A rotation in degrees that keeps the shape recognisable: squares stay axis aligned or tilt a bit."""
    if name == "square":
        return 0.0 if rng.random() < 0.5 else float(rng.uniform(-20, 20))
    if name == "triangle":
        return float(rng.uniform(0, 360))
    if name == "star":
        return float(rng.uniform(0, 72))
    return 0.0


def mask_to_bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Tight box ``(x1, y1, x2, y2)`` in pixel edges around the True pixels of an (H, W) mask."""
    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        raise ValueError("empty mask has no bounding box")
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def contrasting_color(
    rng: np.random.Generator, image: np.ndarray, mask: np.ndarray, num_candidates: int = 12
) -> tuple[int, int, int]:
    """A saturated RGB colour far from the mean colour of the pixels just around ``mask``."""
    ring = cv2.dilate(mask.astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool) & ~mask
    surround = image[ring].mean(axis=0) if ring.any() else image.reshape(-1, 3).mean(axis=0)
    hsv = np.stack(
        [
            rng.integers(0, 180, num_candidates),
            rng.integers(150, 256, num_candidates),
            rng.integers(150, 256, num_candidates),
        ],
        axis=1,
    ).astype(np.uint8)
    candidates = cv2.cvtColor(hsv[None], cv2.COLOR_HSV2RGB)[0].astype(np.float64)
    best = candidates[np.argmax(np.linalg.norm(candidates - surround, axis=1))]
    return int(best[0]), int(best[1]), int(best[2])


def draw_shape(
    image: np.ndarray, rng: np.random.Generator, name: str, center: tuple[float, float], size: float
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Paint one shape with a random angle and contrasting colour onto (H, W, 3) ``image`` in place.

    Returns its (H, W) bool mask and tight ``(x1, y1, x2, y2)`` box; see :func:`shape_mask` for units.
    """
    mask = shape_mask(name, image.shape[:2], center, size, random_angle(rng, name))
    image[mask] = contrasting_color(rng, image, mask)
    return mask, mask_to_bbox(mask)


def random_shape_mask(
    rng: np.random.Generator, name: str, image_shape: tuple[int, int], size: float
) -> np.ndarray:
    """Mask of a shape at a random position and angle; at most about a quarter of it leaves the image."""
    center = []
    for extent in (image_shape[1], image_shape[0]):
        margin = min(size / 4, extent / 2)
        center.append(float(rng.uniform(margin, extent - margin)))
    return shape_mask(name, image_shape, (center[0], center[1]), size, random_angle(rng, name))


@dataclass
class Scene:
    """An (H, W, 3) uint8 image and the visible masks of the objects painted on it, in drawing order.

    Later objects occlude earlier ones, so ``masks`` only keep what is still visible.
    """

    image: np.ndarray
    masks: list[np.ndarray] = field(default_factory=list)
    full_areas: list[int] = field(default_factory=list)

    def try_add(
        self, rng: np.random.Generator, mask: np.ndarray, min_visible: float = 0.6, min_area: int = 40
    ) -> bool:
        """Paint ``mask`` in a contrasting colour unless it is tiny or would hide too much of an object.

        An earlier object must keep at least ``min_visible`` of its full area. Returns whether it was added.
        """
        area = int(mask.sum())
        if area < min_area:
            return False
        for visible, full_area in zip(self.masks, self.full_areas, strict=True):
            if np.count_nonzero(visible & ~mask) < min_visible * full_area:
                return False
        self.image[mask] = contrasting_color(rng, self.image, mask)
        for visible in self.masks:
            visible &= ~mask
        self.masks.append(mask.copy())
        self.full_areas.append(area)
        return True


def place_shapes(
    scene: Scene, rng: np.random.Generator, shapes: Iterable[tuple[str, float]], max_tries: int = 20
) -> list[str]:
    """Add each ``(name, size)`` shape at the first random position the scene accepts.

    Shapes that find no place in ``max_tries`` are dropped. Returns the names of the added shapes,
    matching the masks appended to ``scene.masks``.
    """
    placed = []
    for name, size in shapes:
        for _ in range(max_tries):
            if scene.try_add(rng, random_shape_mask(rng, name, scene.image.shape[:2], size)):
                placed.append(name)
                break
    return placed
