"""SSDLiteHead's training targets and loss settings, on anchors and boxes small enough to check by hand."""

import math

import pytest
import torch

from visionkit.models.box_ops import multiclass_nms
from visionkit.models.heads.ssdlite_head import SSDLiteHead
from visionkit.structures import DataSample

# A0..A3 as in test_matching: three 10 px cells in the corner and one far away.
ANCHORS = torch.tensor(
    [[0.0, 0.0, 10.0, 10.0], [10.0, 0.0, 20.0, 10.0], [0.0, 10.0, 10.0, 20.0], [50.0, 50.0, 60.0, 60.0]]
)
NUM_CLASSES = 3  # background is label 3


def build_head(**kwargs) -> SSDLiteHead:
    return SSDLiteHead(
        num_classes=NUM_CLASSES,
        in_channels=[8] * 6,
        anchor_generator=dict(type="TFSSDAnchorGenerator"),
        **kwargs,
    )


def sample(boxes: list, labels: list) -> DataSample:
    data = DataSample(metainfo=dict(batch_input_shape=(64, 64)))
    data.gt_bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    data.gt_labels = torch.tensor(labels, dtype=torch.int64)
    return data


def test_labels_and_box_targets_by_hand():
    """gt 0 (class 2) is A0 exactly; gt 1 (class 0), 10 x 12 centred at (55, 56), has IoU 100/120 with A3.
    A3's deltas: ((55 - 55) / 10, (56 - 55) / 10, log(10 / 10), log(12 / 10)) / (0.1, 0.1, 0.2, 0.2)."""
    samples = [sample([[0, 0, 10, 10], [50, 50, 60, 62]], [2, 0]), sample([[10, 0, 20, 10]], [1])]
    labels, targets = build_head().get_targets(ANCHORS, samples)
    assert labels.tolist() == [[2, 3, 3, 0], [3, 1, 3, 3]]
    expected = torch.zeros(2, 4, 4)
    expected[0, 3] = torch.tensor([0.0, 1.0, 0.0, math.log(1.2) / 0.2])
    torch.testing.assert_close(targets, expected)


def test_box_targets_use_the_head_box_stds():
    labels, targets = build_head(box_stds=(1.0, 1.0, 1.0, 1.0)).get_targets(
        ANCHORS, [sample([[50, 50, 60, 62]], [1])]
    )
    assert labels.tolist() == [[3, 3, 3, 1]]
    torch.testing.assert_close(targets[0, 3], torch.tensor([0.0, 0.1, 0.0, math.log(1.2)]))


def test_ignore_band_gives_label_minus_one():
    """A box 4..14 x 0..10 has IoU 0.43 with A0 (its best: forced positive) and 0.25 with A1: with
    neg_iou 0.2 < 0.25 < pos_iou 0.5, A1 is ignored (-1), not background."""
    head = build_head(pos_iou=0.5, neg_iou=0.2)
    labels, _ = head.get_targets(ANCHORS, [sample([[4, 0, 14, 10]], [1])])
    assert labels.tolist() == [[1, -1, 3, 3]]
    labels, _ = build_head().get_targets(ANCHORS, [sample([[4, 0, 14, 10]], [1])])
    assert labels.tolist() == [[1, 3, 3, 3]]


def test_no_ground_truth_is_all_background():
    labels, targets = build_head().get_targets(ANCHORS, [sample([], [])])
    assert labels.tolist() == [[3, 3, 3, 3]] and not targets.any()


def test_loss_is_built_from_its_config():
    settings = dict(
        neg_pos_ratio=2, min_negatives=5, smooth_l1_beta=0.25, loss_cls_weight=0.5, loss_bbox_weight=4.0
    )
    head = build_head(loss=dict(type="SSDLoss", **settings))
    loss = head.loss_module
    assert (loss.neg_pos_ratio, loss.min_negatives, loss.smooth_l1_beta) == (2, 5, 0.25)
    assert (loss.loss_cls_weight, loss.loss_bbox_weight) == (0.5, 4.0)
    assert (head.pos_iou, head.neg_iou) == (0.5, 0.5)
    default = build_head().loss_module
    assert (default.neg_pos_ratio, default.min_negatives, default.smooth_l1_beta) == (3, 3, 1.0)


def test_loss_is_the_ssd_loss_of_the_hand_targets():
    """head.loss on features whose predictors are zero: uniform class scores (cross-entropy log 4 per
    selected anchor) and zero deltas, so the box loss is the smooth-L1 of the targets themselves."""
    torch.manual_seed(0)
    head = build_head()
    for conv in [*head.cls_convs, *head.reg_convs]:
        torch.nn.init.zeros_(conv[1].weight)
        torch.nn.init.zeros_(conv[1].bias)
    head.eval()
    feats = [torch.randn(2, 8, s, s) for s in (4, 2, 1, 1, 1, 1)]
    samples = [sample([[0, 0, 30, 30]], [2]), sample([[20, 24, 50, 60]], [0])]
    losses = head.loss(feats, samples)
    anchors = head.anchors(head(feats)[0], samples)
    labels, targets = head.get_targets(anchors, samples)
    positive = (labels >= 0) & (labels < NUM_CLASSES)
    num_pos = int(positive.sum())
    assert num_pos >= 2
    kept = sum(
        min(3 * int(p.sum()), int((lab == NUM_CLASSES).sum()))
        for p, lab in zip(positive, labels, strict=True)
    )
    assert losses["loss_cls"].item() == pytest.approx((num_pos + kept) * math.log(4) / num_pos, rel=1e-5)
    box = torch.nn.functional.smooth_l1_loss(
        targets[positive], torch.zeros_like(targets[positive]), reduction="sum"
    )
    assert losses["loss_bbox"].item() == pytest.approx(box.item() / num_pos, rel=1e-5)
    assert box > 0


def test_score_at_the_threshold_is_dropped_and_bn_settings_are_tf():
    """multiclass_nms keeps scores above score_thr only; predictor BN: TF's eps 1e-3, momentum 0.03."""
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([[0.25, 0.0], [0.0, 0.5]])
    _, kept, labels = multiclass_nms(boxes, scores, score_thr=0.25, nms_pre=10, iou_thr=0.5, max_per_img=10)
    assert kept.tolist() == [0.5] and labels.tolist() == [1]
    norm = build_head().cls_convs[0][0].bn
    assert (norm.eps, norm.momentum) == (1e-3, 0.03)
