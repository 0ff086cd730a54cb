"""Ground truth beside prediction: boxes land where the objects are at the original size; nothing is
drawn on an image where nothing was found; the test hook writes one PNG per image."""

from types import SimpleNamespace

import numpy as np
import torch
from PIL import Image

from visionkit.engine.hooks import VisualizationHook
from visionkit.structures import DataSample
from visionkit.visualization import (
    draw_ground_truth,
    draw_ground_truth_and_prediction,
    draw_prediction,
    overlay_segmentation,
)

GREY = (120, 120, 120)


def detection_sample() -> DataSample:
    """An original 100x200 (H, W) image resized to a 50x50 network input; one object, one prediction."""
    sample = DataSample(metainfo=dict(img_shape=(50, 50), ori_shape=(100, 200), img_path="x.jpg"))
    sample.gt_bboxes = torch.tensor([[10.0, 10.0, 20.0, 20.0]])  # input pixels: x 40..80, y 20..40 originally
    sample.gt_labels = torch.tensor([1])
    sample.pred_bboxes = torch.tensor([[40.0, 20.0, 80.0, 40.0], [150.0, 60.0, 190.0, 90.0]])
    sample.pred_scores = torch.tensor([0.9, 0.1])
    sample.pred_labels = torch.tensor([1, 0])
    return sample


def test_ground_truth_boxes_are_scaled_to_the_original_image():
    image = np.full((100, 200, 3), GREY, np.uint8)
    drawn = draw_ground_truth(image, detection_sample(), ["a", "b"])
    changed = np.argwhere((drawn != image).any(axis=2))
    # The box outline spans x 40..80 and y 20..40 (width-2 lines grow inwards); its caption sits above y 20.
    assert changed[:, 1].min() == 40 and changed[:, 1].max() in (79, 80)
    assert changed[:, 0].max() in (39, 40)
    assert (drawn[30, 60] == GREY).all()  # inside the box: untouched


def test_prediction_side_leaves_out_boxes_below_the_score_threshold():
    image = np.full((100, 200, 3), GREY, np.uint8)
    drawn = draw_prediction(image, detection_sample(), ["a", "b"], score_thr=0.3)
    assert (drawn[20:41, 40] != GREY).any(axis=1).all()  # the 0.9 box's left edge
    assert (drawn[55:, 140:] == GREY).all()  # the 0.1 box is not drawn


def test_overlay_of_an_all_background_prediction_keeps_the_photo():
    image = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    overlay = overlay_segmentation(image, np.zeros((40, 60), np.int64), ["background", "cat"])
    assert np.array_equal(overlay[:, :60], image)  # not darkened by a black "background" colour


def test_comparison_puts_truth_left_and_prediction_right():
    image = np.full((100, 200, 3), GREY, np.uint8)
    picture = draw_ground_truth_and_prediction(image, detection_sample(), ["a", "b"])
    assert picture.shape[1] == 2 * 200 + 8
    title_h = picture.shape[0] - 100
    left, right = picture[title_h:, :200], picture[title_h:, 208:]
    assert (left[55:, 140:] == GREY).all() and (right[55:, 140:] == GREY).all()
    assert not np.array_equal(left, image) and not np.array_equal(right, image)


def test_hook_writes_one_picture_per_test_image_up_to_the_limit(tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"img{i}.jpg")
        Image.new("RGB", (200, 100), GREY).save(paths[-1])
    samples = []
    for path in paths:
        sample = detection_sample()
        sample.set_metainfo({"img_path": str(path)})
        samples.append(sample)
    runner = SimpleNamespace(
        test_dataloader=SimpleNamespace(dataset=SimpleNamespace(metainfo={"classes": ("a", "b")}))
    )
    hook = VisualizationHook(out_dir=str(tmp_path / "show"), max_images=2)
    hook.after_test_iter(runner, 0, outputs=samples[:2])
    hook.after_test_iter(runner, 1, outputs=samples[2:])
    written = sorted(p.name for p in (tmp_path / "show").iterdir())
    assert written == ["img0.png", "img1.png"]
    with Image.open(tmp_path / "show" / "img0.png") as picture:
        assert picture.size[0] == 2 * 200 + 8


def test_a_multi_task_prediction_is_drawn_for_its_own_task_only():
    from visionkit.outputs import own_task_only

    sample = detection_sample()
    sample.pred_seg_map = torch.zeros(100, 200, dtype=torch.int64)
    sample.set_metainfo({"task": "detection"})
    reduced = own_task_only(sample)
    assert "pred_bboxes" in reduced and "pred_seg_map" not in reduced and "pred_seg_map" in sample
