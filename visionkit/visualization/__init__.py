"""Turning predictions into images people look at."""

from .draw import class_colours, draw_detections, overlay_segmentation, save_palette_png

__all__ = ["class_colours", "draw_detections", "overlay_segmentation", "save_palette_png"]
