"""Squeeze-and-excitation (Hu et al., arXiv 1709.01507), as MobileNetV3 places it (arXiv 1905.02244,
section 5.3 and Figure 4): after the depthwise conv of an inverted residual, gated by a hard sigmoid."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .activation import build_activation


class SqueezeExcitation(nn.Module):
    """x * gate(fc2(act(fc1(mean over H, W of x)))), channel-wise.

    Module names follow torchvision's ``ops.SqueezeExcitation`` (``fc1``, ``fc2``: 1x1 convs with bias),
    so its checkpoints map one to one.

    Args:
        channels: channels of the input and output.
        squeeze_channels: width of the bottleneck; MobileNetV3 uses ``make_divisible(channels // 4, 8)``.
        act: activation after ``fc1`` (ReLU in MobileNetV3).
        gate: activation producing the channel scales (hard sigmoid in MobileNetV3, sigmoid in SENet).
    """

    def __init__(
        self, channels: int, squeeze_channels: int, act: str = "relu", gate: str = "hardsigmoid"
    ) -> None:
        super().__init__()
        self.fc1 = nn.Conv2d(channels, squeeze_channels, 1)
        self.fc2 = nn.Conv2d(squeeze_channels, channels, 1)
        self.act = build_activation(act)
        self.gate = build_activation(gate)

    def forward(self, x: Tensor) -> Tensor:
        """x: (N, C, H, W) -> (N, C, H, W), each channel scaled by a factor in [0, 1]."""
        scale = self.gate(self.fc2(self.act(self.fc1(F.adaptive_avg_pool2d(x, 1)))))
        return x * scale
