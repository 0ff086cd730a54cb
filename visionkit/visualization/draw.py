"""Drawing predictions onto images with torchvision's drawing utilities (``torchvision.utils``).

Every picture visionkit writes (``tools/infer.py``, ``tools/test.py --show-dir``, the quick start,
``tools/analysis/browse_dataset.py``) goes through these functions. Images are (H, W, 3) uint8 RGB arrays;
each function returns a new array and leaves its input unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision.utils import draw_bounding_boxes, draw_segmentation_masks

from ..datasets.voc_palette import voc_palette

IGNORE_INDEX = 255


def save_palette_png(path: str | Path, seg_map: np.ndarray) -> None:
    """Write an (H, W) class-index map as a VOC palette ('P' mode) PNG, scorable against VOC ground truth."""
    image = Image.fromarray(seg_map.astype(np.uint8), mode="P")
    image.putpalette(voc_palette().reshape(-1).tolist())
    image.save(path)


def write_rgb(path: str | Path, image: np.ndarray) -> None:
    """Write an (H, W, 3) uint8 RGB image (format by suffix); OSError naming the path if it cannot."""
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR)):
        raise OSError(f"Cannot write '{path}'")


def class_colours(num_classes: int, palette: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """(num_classes, 3) uint8 RGB: the given palette, else the VOC colour map."""
    if palette is not None and len(palette) >= num_classes:
        return np.asarray(palette[:num_classes], dtype=np.uint8)
    return voc_palette()[:num_classes]


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)


def _to_array(image: torch.Tensor) -> np.ndarray:
    return image.permute(1, 2, 0).contiguous().numpy()


def _font_size(image: np.ndarray) -> int:
    return max(10, min(image.shape[:2]) // 25)


def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def draw_text_rows(
    image: np.ndarray, rows: Sequence[tuple[str, Sequence[int] | None]], inside: bool = False
) -> np.ndarray:
    """A white strip right of ``image`` listing ``(text, swatch colour or None)`` rows, top to bottom.

    ``inside``: the rows go on a translucent white box over the image's top-left corner instead, and the
    result keeps the image's size (a video frame must).
    """
    size = _font_size(image)
    font = _font(size)
    row = size + 6
    text_w = max((int(font.getlength(text)) for text, _ in rows), default=0)
    if inside:
        canvas, left = Image.fromarray(image), 0
        box_w, box_h = min(row + text_w + 16, image.shape[1]), min(row * len(rows) + 10, image.shape[0])
        if rows:
            region = image[:box_h, :box_w].astype(np.uint16)
            canvas.paste(Image.fromarray(((region + 255 * 3) // 4).astype(np.uint8)), (0, 0))
    else:
        width = image.shape[1] + (row + text_w + 16 if rows else 0)
        height = max(image.shape[0], row * len(rows) + 10)
        canvas, left = Image.new("RGB", (width, height), (255, 255, 255)), image.shape[1]
        canvas.paste(Image.fromarray(image), (0, 0))
    draw = ImageDraw.Draw(canvas)
    for i, (text, colour) in enumerate(rows):
        top, x = 5 + i * row, left + 6
        if colour is not None:
            draw.rectangle((x, top, x + row - 6, top + row - 6), fill=tuple(int(c) for c in colour))
        draw.text((x + row, top), text, fill=(0, 0, 0), font=font)
    return np.asarray(canvas)


def overlay_segmentation(
    image: np.ndarray,
    seg_map: np.ndarray,
    classes: Sequence[str],
    palette: Sequence[Sequence[int]] | None = None,
    alpha: float = 0.5,
    legend_inside: bool = False,
) -> np.ndarray:
    """Blend class colours over ``image`` (H, W, 3) and add a legend of the classes present.

    ``seg_map`` (H, W) holds class indices; a class named ``"background"`` and the ignore index 255 are
    not coloured, so an image where nothing was found comes back as it was (plus an empty legend). The
    legend is a white strip to the right: one colour swatch and name per coloured class present.
    Returns an (H', W + legend, 3) uint8 RGB image; with ``legend_inside`` the legend goes over the image's
    top-left corner and the result is (H, W, 3).
    """
    colours = class_colours(len(classes), palette)
    present = [int(c) for c in np.unique(seg_map) if c < len(classes) and classes[int(c)] != "background"]
    blended = image
    if present:
        masks = torch.from_numpy(np.stack([seg_map == c for c in present]))
        colour_list = [tuple(int(v) for v in colours[c]) for c in present]
        blended = _to_array(
            draw_segmentation_masks(_to_tensor(image), masks, alpha=alpha, colors=colour_list)
        )
    return draw_text_rows(blended, [(classes[c], colours[c]) for c in present], inside=legend_inside)


def draw_detections(
    image: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    scores: np.ndarray | None,
    classes: Sequence[str],
    score_thr: float = 0.3,
) -> np.ndarray:
    """Draw boxes (N, 4) xyxy pixels with "name score" captions (name only without ``scores``).

    Boxes scoring below ``score_thr`` are left out. Each class keeps one colour in every picture.
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    keep = np.ones(len(boxes), bool) if scores is None else np.asarray(scores) >= score_thr
    if not keep.any():
        return image.copy()
    colours = class_colours(max(len(classes), 1) + 1)[1:]  # skip black (VOC background)
    captions, colour_list = [], []
    for index in np.flatnonzero(keep):
        label = int(labels[index])
        name = classes[label] if label < len(classes) else str(label)
        captions.append(name if scores is None else f"{name} {float(scores[index]):.2f}")
        colour_list.append(tuple(int(v) for v in colours[label % len(colours)]))
    drawn = draw_bounding_boxes(
        _to_tensor(image),
        torch.from_numpy(boxes[keep]),
        labels=captions,
        colors=colour_list,
        width=2,
        fill_labels=True,
        label_colors="white",
    )
    return _to_array(drawn)
