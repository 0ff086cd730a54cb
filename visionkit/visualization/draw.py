"""Drawing predictions onto images: segmentation overlays with a legend, detection boxes, palette PNGs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from ..datasets.voc_palette import voc_palette

_FONT = cv2.FONT_HERSHEY_SIMPLEX


def save_palette_png(path: str | Path, seg_map: np.ndarray) -> None:
    """Write an (H, W) class-index map as a VOC palette ('P' mode) PNG, scorable against VOC ground truth."""
    image = Image.fromarray(seg_map.astype(np.uint8), mode="P")
    image.putpalette(voc_palette().reshape(-1).tolist())
    image.save(path)


def class_colours(num_classes: int, palette: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """(num_classes, 3) uint8 RGB: the given palette, else the VOC colour map."""
    if palette is not None and len(palette) >= num_classes:
        return np.asarray(palette[:num_classes], dtype=np.uint8)
    return voc_palette()[:num_classes]


def _text_size(text: str, scale: float) -> tuple[int, int]:
    (width, height), baseline = cv2.getTextSize(text, _FONT, scale, 1)
    return width, height + baseline


def overlay_segmentation(
    image: np.ndarray,
    seg_map: np.ndarray,
    classes: Sequence[str],
    palette: Sequence[Sequence[int]] | None = None,
    alpha: float = 0.5,
) -> np.ndarray:
    """Blend class colours over ``image`` (H, W, 3) uint8 RGB and add a legend of the classes present.

    The legend is a white strip to the right of the image: one colour swatch and name per class that
    occurs in ``seg_map`` (H, W). Returns an (H', W + legend, 3) uint8 RGB image.
    """
    colours = class_colours(len(classes), palette)
    valid = seg_map < len(classes)
    coloured = image.copy()
    coloured[valid] = colours[seg_map[valid]]
    blended = cv2.addWeighted(image, 1 - alpha, coloured, alpha, 0)
    present = [int(c) for c in np.unique(seg_map[valid])]
    scale = max(0.4, min(image.shape[:2]) / 600)
    row = _text_size("Ag", scale)[1] + 6
    legend_w = 20 + row + max((_text_size(classes[c], scale)[0] for c in present), default=0)
    height = max(image.shape[0], row * len(present) + 10)
    canvas = np.full((height, image.shape[1] + legend_w, 3), 255, dtype=np.uint8)
    canvas[: image.shape[0], : image.shape[1]] = blended
    for i, cls in enumerate(present):
        top, left = 5 + i * row, image.shape[1] + 8
        cv2.rectangle(canvas, (left, top), (left + row - 6, top + row - 6), colours[cls].tolist(), -1)
        cv2.putText(
            canvas, classes[cls], (left + row, top + row - 10), _FONT, scale, (0, 0, 0), 1, cv2.LINE_AA
        )
    return canvas


def draw_detections(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray,
    classes: Sequence[str],
    score_thr: float = 0.3,
) -> np.ndarray:
    """Draw boxes (N, 4) xyxy pixels with "name score" captions onto a copy of ``image`` (RGB uint8)."""
    canvas = image.copy()
    colours = class_colours(max(len(classes), 1) + 1)[1:]  # skip black (VOC background)
    scale = max(0.4, min(image.shape[:2]) / 800)
    for box, label, score in zip(boxes, labels, scores, strict=True):
        if score < score_thr:
            continue
        x1, y1, x2, y2 = np.rint(box).astype(int).tolist()
        colour = colours[int(label) % len(colours)].tolist()
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, 2)
        caption = f"{classes[int(label)] if int(label) < len(classes) else label} {score:.2f}"
        width, height = _text_size(caption, scale)
        cv2.rectangle(canvas, (x1, max(y1 - height, 0)), (x1 + width, max(y1, height)), colour, -1)
        cv2.putText(canvas, caption, (x1, max(y1, height) - 3), _FONT, scale, (255, 255, 255), 1, cv2.LINE_AA)
    return canvas
