"""Conv2d -> BatchNorm2d -> optional activation, the unit every MobileNet layer is made of."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .activation import build_activation


def tf_same_padding(size: int, kernel_size: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF's ``padding='SAME'`` along one side of ``size`` pixels: (before, after).

    TF pads ``(ceil(size / stride) - 1) * stride + dilation * (kernel_size - 1) + 1 - size`` in all, one
    less before than after when that is odd: a 3x3 stride-2 conv pads an even side 0 before and 1 after
    (PyTorch's symmetric padding shifts such a layer's sampling grid by one pixel), an odd side 1 and 1.
    Written with integer ops only, so an exported graph keeps a dynamic ``size``.
    """
    effective = dilation * (kernel_size - 1) + 1
    total = effective - stride + (-size) % stride
    if effective < stride:  # only then can it be negative (never for MobileNet layers)
        total = max(total, 0)
    return total // 2, total - total // 2


class ConvNormAct(nn.Module):
    """``conv`` (no bias) -> ``bn`` -> ``act``.

    ``act``: ``True`` (default) is ReLU6, ``False`` / ``None`` none (linear outputs), a string one of
    :data:`~visionkit.models.layers.activation.ACTIVATIONS` (``"hardswish"``, ``"relu"``...).

    Padding keeps the spatial size at stride 1 for any dilation: ``dilation * (kernel_size - 1) // 2``.
    ``tf_padding=True`` pads as TF's ``'SAME'`` instead (:func:`tf_same_padding`, computed from each
    input's size): the layers of TF-trained checkpoints need it wherever it differs, which is at stride 2
    on even sizes; elsewhere it is the same symmetric padding, and the conv keeps doing it.
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
        tf_padding: bool = False,
    ) -> None:
        super().__init__()
        padding = dilation * (kernel_size - 1) // 2
        # TF's SAME equals the symmetric padding at stride 1 with an odd kernel extent: pad then by the conv.
        self.tf_padding = tf_padding and (stride > 1 or dilation * (kernel_size - 1) % 2 == 1)
        if self.tf_padding:
            padding = 0
        self.conv = nn.Conv2d(
            in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=False
        )
        self.bn = nn.BatchNorm2d(out_channels, eps=bn_eps, momentum=bn_momentum)
        self.act = build_activation("relu6" if act is True else act or None)

    def pad(self, x: Tensor) -> Tensor:
        """``x`` (N, C, H, W) padded as TF's SAME for this conv; unchanged without ``tf_padding``."""
        if not self.tf_padding:
            return x
        conv = self.conv
        top, bottom = tf_same_padding(x.shape[-2], conv.kernel_size[0], conv.stride[0], conv.dilation[0])
        left, right = tf_same_padding(x.shape[-1], conv.kernel_size[1], conv.stride[1], conv.dilation[1])
        return F.pad(x, (left, right, top, bottom))

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.bn(self.conv(self.pad(x))))
