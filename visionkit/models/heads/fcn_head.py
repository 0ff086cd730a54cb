"""Auxiliary FCN head: 3x3 conv-BN-ReLU -> dropout -> 1x1 classifier on an earlier backbone tap.

Trained beside the main head with a smaller loss weight (0.4 in mmsegmentation's configs) to give the
middle of the backbone a direct gradient; it is not used for prediction by the Segmentor.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from ...registry import MODELS
from ..layers import ConvNormAct
from .seg_head import IGNORE_INDEX, SegHead


@MODELS.register_module()
class FCNHead(SegHead):
    """``forward(feats)`` -> logits (N, K, h, w) at the resolution of its tap (``in_taps``, one-element;
    default ``layer14``).

    Args:
        in_channels: channels of its tap, one-element (96 for MobileNetV2 ``layer14``, output stride 16).
        channels: width of the 3x3 conv.
        dropout: dropout probability before the classifier.
        loss_weight: factor on its loss (0.4 by default).
    """

    default_in_taps = ("layer14",)

    def __init__(
        self,
        in_channels: Sequence[int],
        num_classes: int,
        in_taps: Sequence[str] | None = None,
        channels: int = 256,
        dropout: float = 0.1,
        ignore_index: int = IGNORE_INDEX,
        class_weight: Sequence[float] | None = None,
        loss_weight: float = 0.4,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(num_classes, in_taps, in_channels, ignore_index, class_weight, loss_weight, init_cfg)
        self.conv = ConvNormAct(in_channels[0], channels, 3, act="relu")
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        """feats[in_taps[0]]: (N, C, h, w) -> logits (N, num_classes, h, w)."""
        return self.classifier(self.dropout(self.conv(feats[self.in_taps[0]])))
