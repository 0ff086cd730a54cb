"""Agreement counts between two models' predictions, on cases small enough to check by hand."""

from __future__ import annotations

import torch

from visionkit.evaluation.agreement import match_detections
from visionkit.outputs import agreement_counts, agreement_ratios
from visionkit.structures import DataSample


def detections(boxes, scores, labels) -> DataSample:
    sample = DataSample()
    sample.pred_bboxes = torch.tensor(boxes, dtype=torch.float32).view(-1, 4)
    sample.pred_scores, sample.pred_labels = torch.tensor(scores), torch.tensor(labels)
    return sample


def test_box_matches_need_label_iou_and_one_to_one():
    reference = detections([[0, 0, 10, 10], [20, 20, 30, 30], [0, 0, 10, 10]], [0.9, 0.8, 0.7], [0, 1, 0])
    # Same first box; the second shifted by 1 px of 10 (IoU 90/110 = 0.82); a duplicate of the first.
    other = detections([[0, 0, 10, 10], [21, 20, 31, 30], [0, 0, 10, 10.5]], [0.9, 0.8, 0.1], [0, 1, 0])
    counts = agreement_counts([reference], [other], iou=0.9, score_thr=0.3)
    # The third detection of `other` scores under 0.3; each detection matches once.
    assert counts == {"boxes_matched": 1, "boxes_reference": 3, "boxes_other": 2}
    assert agreement_ratios(counts) == {"boxes_matched_of_reference": 1 / 3, "boxes_matched_of_other": 1 / 2}
    assert agreement_counts([reference], [other], iou=0.6, score_thr=0.3)["boxes_matched"] == 2


def test_box_of_another_label_never_matches():
    boxes = torch.tensor([[0.0, 0, 10, 10]])
    assert match_detections(boxes, torch.tensor([1]), boxes, torch.tensor([0])) == 0
    assert match_detections(boxes, torch.tensor([0]), boxes, torch.tensor([0])) == 1


def test_top1_and_pixel_agreement():
    first, second = DataSample(), DataSample()
    first.pred_label, second.pred_label = 2, 2
    first.pred_score = second.pred_score = torch.tensor([0.1, 0.2, 0.7])
    first.pred_seg_map = torch.tensor([[0, 1], [1, 1]])
    second.pred_seg_map = torch.tensor([[0, 1], [0, 1]])
    other_first, other_second = DataSample(), DataSample()
    other_first.pred_label, other_second.pred_label = 2, 3
    other_first.pred_seg_map, other_second.pred_seg_map = (
        first.pred_seg_map,
        torch.zeros(2, 2, dtype=torch.long),
    )
    counts = agreement_counts([first, second], [other_first, other_second])
    assert counts == {"top1_same": 1, "images": 2, "pixels_same": 4 + 2, "pixels": 8}
    assert agreement_ratios(counts) == {"top1_agreement": 0.5, "pixel_agreement": 0.75}


def test_multi_task_samples_count_each_task_on_its_own_images():
    """Every image carries every task's predictions; only its own task's are counted."""
    det_ref, det_other = (detections([[0, 0, 10, 10]], [0.9], [0]) for _ in range(2))
    seg_ref, seg_other = detections([], [], []), detections([[0, 0, 10, 10]], [0.9], [0])
    for sample, seg_map, task in (
        (det_ref, [[0, 0]], "detection"),
        (det_other, [[1, 1]], "detection"),  # masks disagree on a detection image: not counted
        (seg_ref, [[0, 1]], "segmentation"),
        (seg_other, [[0, 0]], "segmentation"),  # boxes disagree on a segmentation image: not counted
    ):
        sample.pred_seg_map = torch.tensor(seg_map)
        sample.set_metainfo(dict(task=task))
    tasks = {"detection": "detection", "segmentation": "segmentation"}
    counts = agreement_counts([det_ref, seg_ref], [det_other, seg_other], tasks=tasks)
    assert counts == {
        "detection/boxes_matched": 1,
        "detection/boxes_reference": 1,
        "detection/boxes_other": 1,
        "segmentation/pixels_same": 1,
        "segmentation/pixels": 2,
    }
    assert agreement_ratios(counts) == {
        "detection/boxes_matched_of_reference": 1.0,
        "detection/boxes_matched_of_other": 1.0,
        "segmentation/pixel_agreement": 0.5,
    }
