"""TF object detection's inference and loss semantics (``ssdlite_mobilenet_v2_coco``), on hand-checked cases:
sigmoid scores, every pair above the threshold into per-class NMS, at most ``max_per_class`` per class, boxes
clipped to the image after NMS (``clip_window``) and those left without area dropped before the last cut.
Eager (``multiclass_nms``) and exported (``padded_multiclass_nms``) paths give the same detections.
"""

from __future__ import annotations

import math

import pytest
import torch

from visionkit.models.box_ops import multiclass_nms, padded_multiclass_nms
from visionkit.models.heads.detection_test_cfg import DetectionTestCfg
from visionkit.models.losses.ssd_loss import ssd_loss


def _both(boxes, scores, **options):
    """multiclass_nms and padded_multiclass_nms on one image: two (boxes, scores, labels) triples."""
    max_per_img = options.pop("max_per_img", 100)
    eager = multiclass_nms(boxes, scores, 1e-8, None, 0.6, max_per_img, **options)
    out = padded_multiclass_nms(boxes[None], scores[None], 1e-8, None, 0.6, max_per_img, **options)
    count = int(out[3][0])
    return eager, (out[0][0, :count], out[1][0, :count], out[2][0, :count])


def test_max_per_class_keeps_the_best_of_each_class():
    boxes = torch.tensor([[i * 20.0, 0, i * 20 + 10, 10] for i in range(6)])  # disjoint
    scores = torch.zeros(6, 2)
    scores[:, 0] = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    scores[:, 1] = torch.tensor([0.05, 0.15, 0.25, 0.35, 0.45, 0.55])
    for boxes_out, scores_out, labels in _both(boxes, scores, max_per_class=2):
        assert labels.tolist() == [0, 0, 1, 1]
        torch.testing.assert_close(scores_out, torch.tensor([0.9, 0.8, 0.55, 0.45]))
        torch.testing.assert_close(boxes_out[:2], boxes[:2])


def test_boxes_are_clipped_after_nms_and_empty_ones_dropped_before_the_last_cut():
    boxes = torch.tensor(
        [
            [-100.0, 0, 100, 100],  # half outside: IoU 0.5 with the next unclipped, 1.0 if clipped first
            [0.0, 0, 100, 100],
            [300.0, 300, 400, 400],  # wholly outside the 200x200 image
            [150.0, 150, 190, 190],
        ]
    )
    scores = torch.tensor([[0.9], [0.8], [0.95], [0.7]])
    for boxes_out, scores_out, _ in _both(boxes, scores, clip_to=(200, 200), max_per_img=3):
        torch.testing.assert_close(scores_out, torch.tensor([0.9, 0.8, 0.7]))
        torch.testing.assert_close(boxes_out[0], torch.tensor([0.0, 0, 100, 100]))  # clipped, kept
    clipped_first = multiclass_nms(boxes.clamp(0, 200), scores, 1e-8, None, 0.6, 3)
    assert clipped_first[1].tolist() != [0.9, 0.8, 0.7]  # what clipping before NMS (mmdetection) gives


def test_nms_pre_none_takes_every_pair_above_the_threshold():
    boxes = torch.tensor([[i * 20.0, 0, i * 20 + 10, 10] for i in range(50)])
    scores = torch.rand(50, 3, generator=torch.Generator().manual_seed(0)) * 0.5 + 1e-6
    eager, padded = _both(boxes, scores)
    assert len(eager[1]) == 100 and torch.equal(eager[1], padded[1]) and torch.equal(eager[2], padded[2])
    assert float(eager[1].min()) == pytest.approx(float(scores.flatten().sort(descending=True)[0][99]))


def test_tf_settings_build_and_clipping_twice_is_refused():
    cfg = DetectionTestCfg.build(
        dict(score_thr=1e-8, nms_pre=None, max_per_class=100, max_per_img=100, clip_after_nms=True)
    )
    assert cfg.to_dict()["max_per_class"] == 100
    with pytest.raises(ValueError, match="not both"):
        DetectionTestCfg.build(dict(clip_border=True, clip_after_nms=True))


def test_sigmoid_loss_sums_binary_cross_entropy_over_every_column():
    logits = torch.tensor([[[2.0, -1.0, 0.5], [0.0, 0.0, 3.0]]])  # 2 anchors, K = 2 classes + background
    labels = torch.tensor([[1, 2]])  # a positive of class 1, a background anchor
    deltas = torch.zeros(1, 2, 4)
    loss_cls, _ = ssd_loss(logits, deltas, labels, deltas, neg_pos_ratio=3, use_sigmoid=True)

    def bce(x: float, target: int) -> float:
        return math.log1p(math.exp(-x)) if target else math.log1p(math.exp(x))

    positive = bce(2.0, 0) + bce(-1.0, 1) + bce(0.5, 0)
    negative = bce(0.0, 0) + bce(0.0, 0) + bce(3.0, 1)
    assert float(loss_cls) == pytest.approx(positive + negative, rel=1e-6)
    softmax, _ = ssd_loss(logits, deltas, labels, deltas, neg_pos_ratio=3)
    assert float(softmax) != pytest.approx(float(loss_cls))
