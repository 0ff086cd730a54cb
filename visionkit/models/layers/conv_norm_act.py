"""Conv2d -> BatchNorm2d -> optional activation, the unit every MobileNetV2 layer is made of."""

from __future__ import annotations

from torch import Tensor, nn


class ConvNormAct(nn.Module):
    """``conv`` (no bias) -> ``bn`` -> ``act`` (ReLU6 by default; ``act=False`` for linear outputs).

    Padding keeps the spatial size at stride 1 for any dilation: ``dilation * (kernel_size - 1) // 2``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 1,
        stride: int = 1,
        dilation: int = 1,
        groups: int = 1,
        act: bool = True,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum)
        self.act = nn.ReLU6(inplace=True) if act else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))
