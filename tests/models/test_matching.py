"""IoU matching on cases small enough to check by hand."""

import pytest
import torch

from visionkit.models.box_ops import BACKGROUND, IGNORE, match_anchors

ANCHORS = torch.tensor(
    [[0.0, 0.0, 10.0, 10.0], [10.0, 0.0, 20.0, 10.0], [0.0, 10.0, 10.0, 20.0], [50.0, 50.0, 60.0, 60.0]]
)


def test_threshold_and_forced_best_anchor():
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [10.0, 0.0, 14.0, 10.0]])  # IoU 1 with A0; 0.4 with A1
    assert match_anchors(gt, ANCHORS).tolist() == [0, 1, BACKGROUND, BACKGROUND]


def test_every_anchor_over_the_threshold_is_positive():
    gt = torch.tensor([[0.0, 0.0, 20.0, 10.0]])  # IoU 0.5 with A0 and A1
    assert match_anchors(gt, ANCHORS).tolist() == [0, 0, BACKGROUND, BACKGROUND]


def test_zero_ground_truth_is_all_background():
    matched = match_anchors(torch.zeros(0, 4), ANCHORS)
    assert matched.dtype == torch.int64 and matched.tolist() == [BACKGROUND] * 4


def test_ignore_band_between_thresholds():
    gt = torch.tensor([[4.0, 0.0, 14.0, 10.0]])  # IoU 0.43 with A0 (forced), 0.25 with A1
    assert match_anchors(gt, ANCHORS, pos_iou=0.5, neg_iou=0.2).tolist() == [0, IGNORE, -1, -1]


def test_shared_best_anchor_goes_to_the_later_ground_truth():
    gt = torch.tensor([[0.0, 0.0, 4.0, 4.0], [0.0, 0.0, 5.0, 5.0]])  # both best with A0 (0.16, 0.25)
    assert match_anchors(gt, ANCHORS).tolist() == [1, -1, -1, -1]


def test_ground_truth_overlapping_nothing_is_not_forced():
    gt = torch.tensor([[200.0, 200.0, 210.0, 210.0]])
    assert match_anchors(gt, ANCHORS).tolist() == [BACKGROUND] * 4


def test_negative_threshold_above_positive_is_an_error():
    with pytest.raises(ValueError, match=r"neg_iou \(0\.6\) must not exceed pos_iou \(0\.5\)"):
        match_anchors(torch.zeros(1, 4), ANCHORS, pos_iou=0.5, neg_iou=0.6)
    assert match_anchors(torch.tensor([[0.0, 0.0, 10.0, 10.0]]), ANCHORS, 0.5, 0.5).tolist() == [
        0,
        -1,
        -1,
        -1,
    ]


def test_iou_equal_to_a_threshold_counts_as_reaching_it():
    """A 10x2.5 box in A0 has IoU exactly 0.25 with A0 and with its copy A4. A0 is forced (the first best
    anchor); A4 reaches neg_iou 0.25, so it is ignored, not background; at pos_iou 0.25 it is positive."""
    gt = torch.tensor([[0.0, 0.0, 10.0, 2.5]])
    anchors = torch.cat([ANCHORS, ANCHORS[:1]])
    assert match_anchors(gt, anchors, pos_iou=0.5, neg_iou=0.25).tolist() == [0, -1, -1, -1, IGNORE]
    assert match_anchors(gt, anchors, pos_iou=0.25, neg_iou=0.25).tolist() == [0, -1, -1, -1, 0]
