"""Palette PNGs keep class indices; overlays carry a legend row per class present; boxes are drawn."""

import numpy as np
from PIL import Image

from visionkit.datasets.voc_palette import voc_palette
from visionkit.visualization import draw_detections, overlay_segmentation, save_palette_png


def test_palette_png_round_trips_indices(tmp_path):
    seg_map = np.array([[0, 1, 255], [15, 20, 0]], dtype=np.int64)
    save_palette_png(tmp_path / "m.png", seg_map)
    with Image.open(tmp_path / "m.png") as image:
        assert image.mode == "P"
        assert np.array_equal(np.asarray(image), seg_map)
        assert np.array_equal(np.asarray(image.convert("RGB"))[0, 1], voc_palette()[1])


def test_overlay_legend_lists_present_classes_only():
    image = np.full((60, 80, 3), 200, dtype=np.uint8)
    seg_map = np.zeros((60, 80), dtype=np.int64)
    seg_map[10:30, 10:30] = 2
    seg_map[40:50, 40:50] = 255
    overlay = overlay_segmentation(image, seg_map, ["background", "a", "b"])
    assert overlay.shape[0] >= 60 and overlay.shape[1] > 80
    legend = overlay[:, 80:]
    # Swatches of the classes present (0 and 2) and not of the absent one (1).
    colours = {tuple(c) for c in legend.reshape(-1, 3)}
    assert tuple(voc_palette()[2]) in colours and tuple(voc_palette()[1]) not in colours
    assert np.array_equal(overlay[45, 45], image[45, 45])  # ignore pixels stay as they were


def test_detections_drawn_above_threshold_only():
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    boxes = np.array([[10, 10, 50, 50], [60, 60, 90, 90]], dtype=np.float32)
    drawn = draw_detections(image, boxes, np.array([0, 1]), np.array([0.9, 0.1]), ["a", "b"], score_thr=0.3)
    assert drawn[30, 10].any() and not drawn[75, 60].any()
    assert not image.any()
