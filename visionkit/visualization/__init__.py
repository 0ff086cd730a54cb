"""Turning predictions and annotations into images people look at (torchvision's drawing utilities)."""

from .comparison import draw_ground_truth, draw_ground_truth_and_prediction, draw_prediction
from .draw import class_colours, draw_detections, draw_text_rows, overlay_segmentation, save_palette_png

__all__ = [
    "class_colours",
    "draw_detections",
    "draw_ground_truth",
    "draw_ground_truth_and_prediction",
    "draw_prediction",
    "draw_text_rows",
    "overlay_segmentation",
    "save_palette_png",
]
