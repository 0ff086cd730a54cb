"""The MobileNetV2 inverted residual with linear bottleneck (paper section 3.3, Figure 3b)."""

from __future__ import annotations

from torch import Tensor, nn

from .conv_norm_act import ConvNormAct


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never down by more than 10% (TF slim rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class InvertedResidual(nn.Module):
    """1x1 expand (BN, ReLU6) -> 3x3 depthwise (BN, ReLU6) -> 1x1 project (BN, no activation).

    The expand conv is absent when ``expand_ratio == 1``. The shortcut is used only when the block keeps
    both resolution and width (stride 1, ``in_channels == out_channels``).

    Args:
        dilation: rate of the depthwise conv; >1 replaces stride for dense prediction (atrous conv).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        expand_ratio: float,
        dilation: int = 1,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        norm = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.hidden_channels = round(in_channels * expand_ratio)
        self.use_shortcut = stride == 1 and in_channels == out_channels
        self.expand = ConvNormAct(in_channels, self.hidden_channels, 1, **norm) if expand_ratio != 1 else None
        self.depthwise = ConvNormAct(
            self.hidden_channels,
            self.hidden_channels,
            3,
            stride,
            dilation,
            groups=self.hidden_channels,
            **norm,
        )
        self.project = ConvNormAct(self.hidden_channels, out_channels, 1, act=False, **norm)

    def forward(self, x: Tensor) -> Tensor:
        expanded = self.expand(x) if self.expand is not None else x
        return self.forward_from_expansion(x, expanded)

    def forward_from_expansion(self, x: Tensor, expanded: Tensor) -> Tensor:
        """Finish the block from the output of ``expand`` (lets a caller tap the expansion)."""
        out = self.project(self.depthwise(expanded))
        return x + out if self.use_shortcut else out
