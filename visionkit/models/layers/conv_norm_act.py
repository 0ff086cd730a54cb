"""Conv2d -> BatchNorm2d -> optional activation, the unit every MobileNet layer is made of."""

from __future__ import annotations

from torch import Tensor, nn

from .activation import build_activation


class ConvNormAct(nn.Module):
    """``conv`` (no bias) -> ``bn`` -> ``act``.

    ``act``: ``True`` (default) is ReLU6, ``False`` / ``None`` none (linear outputs), a string one of
    :data:`~visionkit.models.layers.activation.ACTIVATIONS` (``"hardswish"``, ``"relu"``...).

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
        act: bool | str | None = True,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum)
        self.act = build_activation("relu6" if act is True else act or None)

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(x)))
