"""Lite R-ASPP head (Howard et al., "Searching for MobileNetV3", arXiv 1905.02244, section 6.3, Figure 10).

As torchvision's ``LRASPPHead`` implements it (the layer names are torchvision's, so its checkpoints load
without renaming)::

    high (N, C_high, h, w) -+-> 1x1 conv 128 -> BN -> ReLU -----------------+-> (times) -> upsample to
                            +-> global avg pool -> 1x1 conv 128 -> sigmoid -+   low's size -> 1x1 conv K -+
    low (N, C_low, H, W) ---------------------------------------------------------> 1x1 conv K ----------+-> +

The gate is squeeze-excite-like attention from pooled context. The paper's Figure 10 pools with a 49x49
kernel at stride (16, 20) (Cityscapes 1024x2048 inputs); torchvision, and so visionkit, pools globally,
which works at any input size. The two classifiers are summed: the paper's skip from low-level features.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from ...registry import MODELS
from ..layers import ConvNormAct
from .seg_head import IGNORE_INDEX, SegHead


@MODELS.register_module()
class LRASPPHead(SegHead):
    """``forward(feats)`` -> logits (N, K, h_low, w_low) at the resolution of the low tap.

    Args:
        in_channels: channels of the two taps ``in_taps`` (low, high): (40, 960) for MobileNetV3-Large.
        num_classes: K (21 for VOC).
        in_taps: the (low, high) backbone taps (default ``low``, ``final``); torchvision reads MobileNetV3's
            stride-8 block output and its final 960-channel conv at output stride 16.
        channels: width of the high branch and of its gate (128, torchvision's ``inter_channels``).
        ignore_index, class_weight, loss_weight: see :class:`SegHead`.
    """

    default_in_taps = ("low", "final")
    tap_count = 2

    def __init__(
        self,
        in_channels: Sequence[int],
        num_classes: int,
        in_taps: Sequence[str] | None = None,
        channels: int = 128,
        ignore_index: int = IGNORE_INDEX,
        class_weight: Sequence[float] | None = None,
        loss_weight: float = 1.0,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(num_classes, in_taps, in_channels, ignore_index, class_weight, loss_weight, init_cfg)
        low_channels, high_channels = in_channels
        self.cbr = ConvNormAct(high_channels, channels, act="relu")
        self.scale = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(high_channels, channels, 1, bias=False), nn.Sigmoid()
        )
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        """feats[low]: (N, C_low, H_l, W_l), feats[high]: (N, C_high, h, w) -> logits (N, K, H_l, W_l)."""
        low, high = (feats[name] for name in self.in_taps)
        x = self.cbr(high) * self.scale(high)
        x = F.interpolate(x, size=low.shape[-2:], mode="bilinear", align_corners=False)
        return self.low_classifier(low) + self.high_classifier(x)
