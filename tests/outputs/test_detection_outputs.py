"""Detection outputs: ground truth scaled as predictions are, drawings at either size, the written record."""

import numpy as np
import torch
from PIL import Image

from visionkit.outputs import View, task_outputs
from visionkit.outputs.detection import gt_boxes_in_original_pixels
from visionkit.structures import DataSample
from visionkit.visualization import draw_detections


def sample_with_boxes() -> DataSample:
    """Two boxes on a 100x200 (H, W) network input of a 200x300 original: x scaled 1.5, y 2."""
    sample = DataSample(metainfo=dict(img_shape=(100, 200), ori_shape=(200, 300)))
    sample.gt_bboxes = torch.tensor([[10.0, 20.0, 50.0, 40.0], [0.0, 0.0, 200.0, 100.0]])
    sample.gt_labels = torch.tensor([0, 1])
    sample.pred_bboxes = torch.tensor([[15.0, 40.0, 75.0, 80.0], [30.0, 30.0, 60.0, 60.0]])
    sample.pred_scores, sample.pred_labels = torch.tensor([0.9, 0.2]), torch.tensor([1, 0])
    return sample


def test_ground_truth_is_scaled_per_axis_to_the_original_image():
    np.testing.assert_allclose(
        gt_boxes_in_original_pixels(sample_with_boxes()), [[15, 40, 75, 80], [0, 0, 300, 200]]
    )


def test_ground_truth_is_drawn_at_the_size_asked_for():
    sample, view, outputs = sample_with_boxes(), View(classes=("a", "b")), task_outputs("detection")
    image = np.zeros((100, 200, 3), np.uint8)
    at_input = outputs.draw_ground_truth(image, sample, view, at_input_size=True)
    np.testing.assert_array_equal(
        at_input, draw_detections(image, sample.gt_bboxes.numpy(), [0, 1], None, view.classes)
    )
    original = np.zeros((200, 300, 3), np.uint8)
    np.testing.assert_array_equal(
        outputs.draw_ground_truth(original, sample, view),
        draw_detections(original, gt_boxes_in_original_pixels(sample), [0, 1], None, view.classes),
    )


def test_written_files_and_the_returned_record_keep_the_detections_above_the_threshold(tmp_path):
    view = View(classes=("a", "b"), score_thr=0.5)
    image = np.zeros((200, 300, 3), np.uint8)
    record = task_outputs("detection").write(tmp_path / "photo", image, sample_with_boxes(), view)
    assert record == [{"bbox_xyxy": [15.0, 40.0, 75.0, 80.0], "label": "b", "score": record[0]["score"]}]
    assert abs(record[0]["score"] - 0.9) < 1e-6
    assert Image.open(tmp_path / "photo_detections.jpg").size == (300, 200)
