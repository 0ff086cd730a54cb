"""The inverted residual with linear bottleneck: MobileNetV2's (arXiv 1801.04381, section 3.3, Figure 3b)
and MobileNetV3's (arXiv 1905.02244, section 5: hard-swish, squeeze-and-excitation, 5x5 depthwise)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .conv_norm_act import ConvNormAct
from .squeeze_excitation import SqueezeExcitation


def make_divisible(value: float, divisor: int = 8) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, never down by more than 10% (TF slim rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * value:
        rounded += divisor
    return rounded


class InvertedResidual(nn.Module):
    """1x1 expand (BN, act) -> kxk depthwise (BN, act) -> [squeeze-excite] -> 1x1 project (BN, no act).

    The defaults are MobileNetV2's block (3x3, ReLU6, no SE); MobileNetV3 sets ``kernel_size``, ``act``,
    ``se_channels`` and ``hidden_channels`` per block (paper Tables 1-2). The expand conv is absent when
    the hidden width equals ``in_channels`` (``expand_ratio == 1``) unless ``always_expand``. The shortcut
    is used only when the block keeps both resolution and width (stride 1, ``in_channels == out_channels``).

    Memory-efficient inference (paper section 5.1): with ``memory_efficient_splits = k > 1`` the block
    runs on k slices of its ``hidden_channels``, one at a time, summing their projections before the
    project BN, so the (N, t * C, H, W) expansion never exists whole; the outputs are the same. It runs
    only in eval mode with autograd off (``torch.no_grad`` / ``inference_mode``): in training BatchNorm
    needs whole-batch statistics and autograd would keep every slice for backward anyway, so the normal
    path runs. Works after :func:`~visionkit.deploy.fuse_batchnorm` too (conv bias instead of BN).

    Args:
        expand_ratio: hidden width = ``round(in_channels * expand_ratio)`` unless ``hidden_channels``.
        dilation: rate of the depthwise conv; >1 replaces stride for dense prediction (atrous conv).
        kernel_size: of the depthwise conv (3 or 5 in MobileNetV3).
        act: activation of expand and depthwise (``"relu6"``, ``"relu"``, ``"hardswish"``).
        se_channels: squeeze width of a :class:`SqueezeExcitation` (ReLU, hard-sigmoid gate) after the
            depthwise conv; 0 is none.
        hidden_channels: the expanded width, when it is not a whole multiple (MobileNetV3's 72, 200...).
        always_expand: keep the 1x1 expand conv even when the hidden width equals ``in_channels``
            (PaddleClas's MobileNetV2 expands its t=1 first block, 32 -> 32 channels).
        memory_efficient_splits: number of slices; 0 or 1 computes the expansion whole. A block with
            squeeze-excite always runs whole (its gate needs every channel).
        tf_padding: pad the depthwise conv as TF's ``'SAME'`` (:class:`ConvNormAct`), for TF checkpoints.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        expand_ratio: float = 1.0,
        dilation: int = 1,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        memory_efficient_splits: int = 0,
        kernel_size: int = 3,
        act: str = "relu6",
        se_channels: int = 0,
        hidden_channels: int | None = None,
        always_expand: bool = False,
        tf_padding: bool = False,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if memory_efficient_splits < 0:
            raise ValueError(f"memory_efficient_splits must be >= 0, got {memory_efficient_splits}")
        self.memory_efficient_splits = memory_efficient_splits
        norm = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        hidden = round(in_channels * expand_ratio) if hidden_channels is None else hidden_channels
        self.hidden_channels = hidden
        self.use_shortcut = stride == 1 and in_channels == out_channels
        has_expand = hidden != in_channels or always_expand
        self.expand = ConvNormAct(in_channels, hidden, 1, act=act, **norm) if has_expand else None
        self.depthwise = ConvNormAct(
            hidden,
            hidden,
            kernel_size,
            stride,
            dilation,
            groups=hidden,
            act=act,
            tf_padding=tf_padding,
            **norm,
        )
        self.se = SqueezeExcitation(hidden, se_channels) if se_channels else None
        self.project = ConvNormAct(self.hidden_channels, out_channels, 1, act=False, **norm)

    def forward(self, x: Tensor) -> Tensor:
        """x: (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride)."""
        sliceable = self.memory_efficient_splits > 1 and self.se is None
        if sliceable and not self.training and not torch.is_grad_enabled():
            return self.forward_sliced(x)
        expanded = self.expand(x) if self.expand is not None else x
        return self.forward_from_expansion(x, expanded)

    def forward_from_expansion(self, x: Tensor, expanded: Tensor) -> Tensor:
        """Finish the block from the output of ``expand`` (lets a caller tap the expansion)."""
        hidden = self.depthwise(expanded)
        out = self.project(hidden if self.se is None else self.se(hidden))
        return x + out if self.use_shortcut else out

    def forward_sliced(self, x: Tensor) -> Tensor:
        """The block computed on ``memory_efficient_splits`` slices of the hidden channels (eval mode).

        Peak memory is x, the (N, out_channels, ...) sum and one slice's intermediates.
        """
        chunk = math.ceil(self.hidden_channels / self.memory_efficient_splits)
        out: Tensor | None = None
        for start in range(0, self.hidden_channels, chunk):
            part = slice(start, start + chunk)
            hidden = _sliced_conv_norm_act(self.expand, x, part) if self.expand is not None else x[:, part]
            hidden = _sliced_conv_norm_act(self.depthwise, hidden, part)
            projected = F.conv2d(hidden, self.project.conv.weight[:, part])
            out = projected if out is None else out.add_(projected)
        if self.project.conv.bias is not None:  # fused BN: its bias belongs to the sum, not to each slice
            out = out.add_(self.project.conv.bias.view(1, -1, 1, 1))
        out = self.project.act(self.project.bn(out))
        return x + out if self.use_shortcut else out


def _sliced_conv_norm_act(layer: ConvNormAct, x: Tensor, part: slice) -> Tensor:
    """Output channels ``part`` of ``layer`` (eval mode); a depthwise layer takes those channels as ``x``.

    Handles the BatchNorm of a plain layer and the conv bias of one fused by ``fuse_batchnorm``.
    """
    conv = layer.conv
    bias = conv.bias[part] if conv.bias is not None else None
    groups = x.shape[1] if conv.groups > 1 else 1  # depthwise: one group per channel of the slice
    y = F.conv2d(layer.pad(x), conv.weight[part], bias, conv.stride, conv.padding, conv.dilation, groups)
    bn = layer.bn
    if isinstance(bn, nn.BatchNorm2d):
        y = F.batch_norm(
            y, bn.running_mean[part], bn.running_var[part], bn.weight[part], bn.bias[part], False, 0.0, bn.eps
        )
    elif not isinstance(bn, nn.Identity):
        raise TypeError(f"memory-efficient inference supports BatchNorm2d or Identity norms, got {bn}")
    return layer.act(y)
