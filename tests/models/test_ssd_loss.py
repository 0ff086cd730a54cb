"""SSD loss: hard negative mining keeps 3:1, empty ground truth, normalisation by positives."""

import math

import pytest
import torch

from visionkit.models.losses import SSDLoss, hard_negative_mask, ssd_loss


def test_hard_negative_mining_keeps_exactly_three_per_positive():
    cls_loss = torch.arange(20, dtype=torch.float32).unsqueeze(0)  # anchor i has loss i
    positive = torch.zeros(1, 20, dtype=torch.bool)
    positive[0, [19, 3]] = True
    selected = hard_negative_mask(cls_loss, positive, ~positive, neg_pos_ratio=3)
    assert selected.sum() == 6
    assert torch.nonzero(selected[0]).flatten().tolist() == [13, 14, 15, 16, 17, 18]  # hardest, not 19


def test_all_negatives_when_fewer_than_asked():
    cls_loss = torch.rand(1, 8)
    positive = torch.tensor([[True, True, True, False, False, False, False, False]])
    assert hard_negative_mask(cls_loss, positive, ~positive).sum() == 5


def test_min_negatives_for_an_image_without_positives_and_ignored_anchors_never_chosen():
    cls_loss = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0]])
    positive = torch.zeros(1, 5, dtype=torch.bool)
    negative = torch.tensor([[False, True, True, True, True]])  # anchor 0 ignored
    assert hard_negative_mask(cls_loss, positive, negative, min_negatives=0).sum() == 0
    selected = hard_negative_mask(cls_loss, positive, negative, min_negatives=2)
    assert selected[0].tolist() == [False, True, True, False, False]


def test_loss_values_by_hand():
    num_classes = 4
    logits = torch.zeros(1, 10, num_classes + 1)  # uniform: cross-entropy log 5 everywhere
    labels = torch.full((1, 10), num_classes)
    labels[0, 0] = 2
    deltas = torch.zeros(1, 10, 4)
    targets = torch.zeros(1, 10, 4)
    targets[0, 0] = torch.tensor([1.0, -1.0, 0.5, 0.0])
    loss_cls, loss_bbox = ssd_loss(logits, deltas, labels, targets, neg_pos_ratio=3)
    assert loss_cls.item() == pytest.approx(4 * math.log(5))  # 1 positive + 3 negatives, / 1 positive
    assert loss_bbox.item() == pytest.approx(0.5 + 0.5 + 0.125)  # smooth-L1, beta 1


def test_empty_ground_truth_gives_zero_box_loss_and_positive_cls_loss():
    logits = torch.randn(2, 30, 6, requires_grad=True)
    deltas = torch.randn(2, 30, 4, requires_grad=True)
    labels = torch.full((2, 30), 5)
    losses = SSDLoss(min_negatives=3)(logits, deltas, labels, torch.zeros(2, 30, 4))
    assert losses["loss_bbox"].item() == 0.0
    assert losses["loss_cls"].item() > 0
    sum(losses.values()).backward()
    assert logits.grad.abs().sum() > 0


def test_normalised_by_positives_of_the_whole_batch():
    logits = torch.zeros(2, 10, 3)
    labels = torch.full((2, 10), 2)
    labels[0, :2] = 0
    labels[1, 0] = 1
    loss_cls, _ = ssd_loss(logits, torch.zeros(2, 10, 4), labels, torch.zeros(2, 10, 4))
    # 3 positives + 6 + 3 negatives, divided by 3 positives
    assert loss_cls.item() == pytest.approx(12 * math.log(3) / 3)


def test_ignored_anchors_are_neither_positive_nor_negative():
    """Anchor 1 is ignored (-1) with a box target 1 away: it adds no box loss and no positive."""
    logits = torch.zeros(1, 10, 5)
    labels = torch.full((1, 10), 4)
    labels[0, 0], labels[0, 1] = 2, -1
    targets = torch.zeros(1, 10, 4)
    targets[0, 0] = torch.tensor([1.0, -1.0, 0.5, 0.0])
    targets[0, 1] = torch.tensor([3.0, 3.0, 3.0, 3.0])
    loss_cls, loss_bbox = ssd_loss(logits, torch.zeros(1, 10, 4), labels, targets, neg_pos_ratio=3)
    assert loss_cls.item() == pytest.approx(4 * math.log(5))  # 1 positive + 3 of the 8 negatives
    assert loss_bbox.item() == pytest.approx(1.125)


def test_smooth_l1_beta_and_normalisation_by_hand():
    """Errors (1, -1, 0.5, 0) and (2, 0, 0, 0) at two positives, beta 0.5: smooth-L1 is |x| - beta / 2
    above beta, x^2 / (2 beta) below: (0.75 + 0.75 + 0.25 + 0) + 1.75 = 3.5, over 2 positives."""
    labels = torch.full((1, 6), 3)
    labels[0, :2] = torch.tensor([0, 1])
    targets = torch.zeros(1, 6, 4)
    targets[0, 0] = torch.tensor([1.0, -1.0, 0.5, 0.0])
    targets[0, 1] = torch.tensor([2.0, 0.0, 0.0, 0.0])
    deltas = torch.zeros(1, 6, 4)
    _, loss_bbox = ssd_loss(torch.zeros(1, 6, 4), deltas, labels, targets, smooth_l1_beta=0.5)
    assert loss_bbox.item() == pytest.approx(3.5 / 2)
    _, loss_bbox = ssd_loss(torch.zeros(1, 6, 4), deltas, labels, targets)  # beta 1: 1.125 + 1.5
    assert loss_bbox.item() == pytest.approx(2.625 / 2)


def test_loss_weights_and_defaults_of_the_module():
    """SSDLoss() is SSD's 3:1 mining with TF's 3 negatives per image at least, beta 1, weights 1:1."""
    torch.manual_seed(0)
    logits, deltas, targets = torch.randn(2, 40, 4), torch.randn(2, 40, 4), torch.randn(2, 40, 4)
    labels = torch.full((2, 40), 3)
    labels[0, :2] = torch.tensor([0, 2])  # image 1 has no positive: min_negatives=3 keeps 3 of its anchors
    expected = ssd_loss(logits, deltas, labels, targets, neg_pos_ratio=3, min_negatives=3, smooth_l1_beta=1.0)
    losses = SSDLoss()(logits, deltas, labels, targets)
    assert losses["loss_cls"].item() == pytest.approx(expected[0].item())
    assert losses["loss_bbox"].item() == pytest.approx(expected[1].item())
    weighted = SSDLoss(loss_cls_weight=2.0, loss_bbox_weight=0.25)(logits, deltas, labels, targets)
    assert weighted["loss_cls"].item() == pytest.approx(2.0 * expected[0].item())
    assert weighted["loss_bbox"].item() == pytest.approx(0.25 * expected[1].item())
    other = SSDLoss(neg_pos_ratio=1, min_negatives=0, smooth_l1_beta=0.5)(logits, deltas, labels, targets)
    reference = ssd_loss(
        logits, deltas, labels, targets, neg_pos_ratio=1, min_negatives=0, smooth_l1_beta=0.5
    )
    assert (other["loss_cls"].item(), other["loss_bbox"].item()) == pytest.approx(
        (reference[0].item(), reference[1].item())
    )
    assert reference[0].item() != pytest.approx(expected[0].item())


def test_class_zero_positive_keeps_its_label_and_no_positive_gives_no_loss_by_default():
    """Logits (2, 0, 0) for a class-0 positive: cross-entropy -log(e^2 / (e^2 + 2)), nothing else selected
    (neg_pos_ratio 0). With no positive and the function's default min_negatives=0, both losses are 0."""
    logits = torch.zeros(1, 3, 3)
    logits[0, 0, 0] = 2.0
    labels = torch.tensor([[0, 2, 2]])
    loss_cls, _ = ssd_loss(logits, torch.zeros(1, 3, 4), labels, torch.zeros(1, 3, 4), neg_pos_ratio=0)
    assert loss_cls.item() == pytest.approx(-math.log(math.exp(2) / (math.exp(2) + 2)))
    loss_cls, loss_bbox = ssd_loss(logits, torch.zeros(1, 3, 4), torch.full((1, 3), 2), torch.zeros(1, 3, 4))
    assert loss_cls.item() == 0.0 and loss_bbox.item() == 0.0
