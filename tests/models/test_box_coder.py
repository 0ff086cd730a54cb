"""Center-size box coding: hand-checked deltas, encode -> decode round trip, clamping."""

import math

import torch

from visionkit.models.box_ops import decode_boxes, encode_boxes


def test_encode_by_hand():
    anchor = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    box = torch.tensor([[1.0, 1.0, 11.0, 21.0]])  # centre (6, 11), 10 x 20
    deltas = encode_boxes(box, anchor, stds=(0.1, 0.1, 0.2, 0.2))
    # (1 / 10, 6 / 10, log 1, log 2) times TF's scales (10, 10, 5, 5)
    torch.testing.assert_close(deltas, torch.tensor([[1.0, 6.0, 0.0, 5 * math.log(2.0)]]))


def test_round_trip():
    torch.manual_seed(0)
    anchors = torch.rand(100, 2) * 300
    anchors = torch.cat([anchors, anchors + 5 + torch.rand(100, 2) * 100], dim=1)
    boxes = torch.rand(100, 2) * 300
    boxes = torch.cat([boxes, boxes + 1 + torch.rand(100, 2) * 200], dim=1)
    for stds in [(0.1, 0.1, 0.2, 0.2), (1.0, 1.0, 1.0, 1.0)]:
        decoded = decode_boxes(encode_boxes(boxes, anchors, stds), anchors, stds)
        torch.testing.assert_close(decoded, boxes, rtol=1e-5, atol=1e-3)


def test_decode_clamps_width_and_height_deltas():
    anchor = torch.tensor([0.0, 0.0, 16.0, 16.0])
    boxes = decode_boxes(torch.tensor([0.0, 0.0, 1e4, 1e4]), anchor)
    torch.testing.assert_close(boxes, torch.tensor([-492.0, -492.0, 508.0, 508.0]))  # 1000 px wide


def test_default_stds_are_tf_scales():
    """Default stds (0.1, 0.1, 0.2, 0.2): TF's scales (10, 10, 5, 5) on both encode and decode."""
    anchor = torch.tensor([[0.0, 0.0, 10.0, 10.0]])
    box = torch.tensor([[1.0, 1.0, 11.0, 21.0]])
    torch.testing.assert_close(encode_boxes(box, anchor), torch.tensor([[1.0, 6.0, 0.0, 5 * math.log(2.0)]]))
    torch.testing.assert_close(decode_boxes(torch.tensor([[1.0, 6.0, 0.0, 5 * math.log(2.0)]]), anchor), box)


def test_batched_boxes_code_like_each_row():
    """(B, A, 4) deltas against (A, 4) anchors (the ONNX export decodes a batch at once) = row by row."""
    torch.manual_seed(1)
    anchors = torch.rand(5, 2) * 50
    anchors = torch.cat([anchors, anchors + 4 + torch.rand(5, 2) * 20], dim=1)
    deltas = torch.randn(3, 5, 4)
    decoded = decode_boxes(deltas, anchors)
    assert decoded.shape == (3, 5, 4)
    for image in range(3):
        torch.testing.assert_close(decoded[image], decode_boxes(deltas[image], anchors))
        torch.testing.assert_close(
            encode_boxes(decoded, anchors)[image], encode_boxes(decoded[image], anchors)
        )
