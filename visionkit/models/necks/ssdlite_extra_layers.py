"""SSDLite extra feature layers (MobileNetV2 paper section 6.2): four stride-2 blocks after the backbone."""

from __future__ import annotations

from collections.abc import Sequence

from mmengine.model import BaseModule
from torch import Tensor, nn

from ...registry import MODELS
from ..layers import ConvNormAct, make_divisible


class ExtraBlock(nn.Sequential):
    """1x1 conv to out/2 (BN, ReLU6) -> 3x3 depthwise stride 2 (BN, ReLU6) -> 1x1 conv to out (BN, ReLU6).

    The depthwise conv pads 1, so sizes go 10 -> 5 -> 3 -> 2 -> 1 as TF's 'SAME' padding does; on even sizes
    TF pads 0 before and 1 after, which ``tf_padding=True`` reproduces (for TF checkpoints).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.03,
        tf_padding: bool = False,
    ) -> None:
        norm = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        mid_channels = out_channels // 2
        super().__init__(
            ConvNormAct(in_channels, mid_channels, 1, **norm),
            ConvNormAct(mid_channels, mid_channels, 3, 2, groups=mid_channels, tf_padding=tf_padding, **norm),
            ConvNormAct(mid_channels, out_channels, 1, **norm),
        )


@MODELS.register_module()
class SSDLiteExtraLayers(BaseModule):
    """Extra feature maps for SSDLite, each half the size of the one before.

    Args:
        in_channels: channels of the input (the backbone's ``final`` tap, 1280 for MobileNetV2 1.0).
        out_channels: channels of each block before the width multiplier (paper: 512, 256, 256, 128).
        widen_factor: width multiplier; channels rounded with :func:`make_divisible`.
        bn_eps, bn_momentum: BatchNorm settings (TF's and torchvision's SSDLite: 1e-3 and 0.03).
        tf_padding: pad the stride-2 depthwise convs as TF's ``'SAME'`` (TF object detection checkpoints).
        init_cfg: ``None`` for the TF / torchvision init, N(0, 0.03) conv weights.

    ``self.out_channels`` holds the rounded channels of each output.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: Sequence[int] = (512, 256, 256, 128),
        widen_factor: float = 1.0,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.03,
        init_cfg: dict | None = None,
        tf_padding: bool = False,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.out_channels = [make_divisible(c * widen_factor) for c in out_channels]
        self.blocks = nn.ModuleList()
        for channels in self.out_channels:
            self.blocks.append(ExtraBlock(in_channels, channels, bn_eps, bn_momentum, tf_padding))
            in_channels = channels

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
            return
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.03)

    def forward(self, x: Tensor) -> list[Tensor]:
        """x: (N, C_in, H, W) -> one (N, out_channels[k], H_k, W_k) per block, H_k = ceil(H_{k-1} / 2)."""
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        return outs
