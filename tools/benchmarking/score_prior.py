"""Trained-like class scores for randomly initialised SSD detectors, so post-processing has real work.

A randomly initialised head scores every class about 1 / (K + 1) at every anchor: all of them pass a
0.01 threshold, and NMS then costs what it never costs with trained weights (torchvision's SSD, which keeps
``topk_candidates`` per class, spends seconds there). Setting each level's last classification conv to
zero weights and a bias drawn from ``N(fg_mean, fg_std)`` for object classes (0 for background) gives every
anchor the same trained-like distribution: background likely, about 1% of the (anchor, class) pairs above
0.01. The draws depend only on the seed, level and (anchor, class), so two detectors with the same anchors
get the same candidates whatever their class order.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn


@torch.no_grad()
def apply_score_prior(
    class_convs: Sequence[nn.Conv2d],
    num_classes: int,
    background_first: bool,
    fg_mean: float = -7.0,
    fg_std: float = 1.0,
    seed: int = 0,
) -> None:
    """Set each level's class conv (output ``A * (num_classes + 1)`` channels, anchor-major) in place.

    ``background_first``: torchvision puts background at class index 0, visionkit at ``num_classes``.
    """
    for level, conv in enumerate(class_convs):
        anchors = conv.out_channels // (num_classes + 1)
        generator = torch.Generator().manual_seed(seed * 1000 + level)
        foreground = torch.randn(anchors, num_classes, generator=generator) * fg_std + fg_mean
        background = torch.zeros(anchors, 1)
        logits = torch.cat([background, foreground] if background_first else [foreground, background], 1)
        conv.weight.zero_()
        conv.bias.copy_(logits.flatten())
