"""MobileNetV3 Large and Small backbones (Howard et al., arXiv 1905.02244, Tables 1 and 2) with named taps.

The layout, widths and rounding are torchvision's ``mobilenet_v3_large`` / ``mobilenet_v3_small``
(``_make_divisible`` on every width, squeeze width ``make_divisible(expanded // 4, 8)``, BN eps 1e-3
momentum 0.01), so its checkpoints load as they are. Layers are numbered as in MobileNetV2: ``layer1``
is the stem (``features[0]`` in torchvision), ``layer{n}`` the block ``features[n-1]``, and the last layer
the final 1x1 conv. Taps at width 1.0, output stride 32 (Large / Small):

=====================  =============  =====================  ===============================================
tap                    channels       stride                 what
=====================  =============  =====================  ===============================================
``layer1``             16 / 16        2                      stem conv 3x3 (hard-swish)
``layer{n}``           block output   its stride             every block: Large n = 2..16, Small n = 2..12
``layer{n}_expansion`` expanded       stride of its input    expand activation of block n, before depthwise
``low``                40 / 24        8                      = ``layer5`` / ``layer3``: first stride-8 block
                                                             (torchvision segmentation's ``low``, C2)
``c4_expansion``       672 / 288      16                     = ``layer14_expansion`` / ``layer10_expansion``:
                                                             expansion of the last strided block (C4), read
                                                             by torchvision's SSDLite
``final``              960 / 576      32                     = ``layer17`` / ``layer13``: 1x1 conv to 6x the
                                                             last block's width (the classifier's input)
=====================  =============  =====================  ===============================================

``output_stride`` 16 is torchvision's ``dilated=True``: the last strided block (C4) keeps stride 1 and it
and the blocks after it run at dilation 2. Output stride 8 does the same from the C3 block on (rate 2),
and again at C4 (rate 4). ``reduced_tail`` halves the widths from C4 on (torchvision's ``reduced_tail``:
the tail of ``ssdlite320_mobilenet_v3_large``'s backbone, ``final`` 480 channels for Large).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

from torch import nn

from ...registry import MODELS
from ..converters.timm_mobilenet import convert_timm_backbone_keys
from ..converters.torchvision_mobilenet_v3 import convert_torchvision_v3_backbone_keys
from ..layers import ConvNormAct, InvertedResidual, make_divisible
from .inverted_residual_backbone import InvertedResidualBackbone, alias_taps
from .taps import TapInfo


class BlockConfig(NamedTuple):
    """One row of the paper's Tables 1-2: depthwise ``kernel``, ``expanded`` and ``out`` widths at width
    1.0, squeeze-excite, activation (``relu`` or ``hardswish``) and stride."""

    kernel: int
    expanded: int
    out: int
    se: bool
    act: str
    stride: int


RE, HS = "relu", "hardswish"
ARCHS: dict[str, tuple[BlockConfig, ...]] = {
    # Table 1 (MobileNetV3-Large); the stem has 16 channels.
    "large": tuple(
        BlockConfig(*row)
        for row in (
            (3, 16, 16, False, RE, 1),
            (3, 64, 24, False, RE, 2),
            (3, 72, 24, False, RE, 1),
            (5, 72, 40, True, RE, 2),
            (5, 120, 40, True, RE, 1),
            (5, 120, 40, True, RE, 1),
            (3, 240, 80, False, HS, 2),
            (3, 200, 80, False, HS, 1),
            (3, 184, 80, False, HS, 1),
            (3, 184, 80, False, HS, 1),
            (3, 480, 112, True, HS, 1),
            (3, 672, 112, True, HS, 1),
            (5, 672, 160, True, HS, 2),
            (5, 960, 160, True, HS, 1),
            (5, 960, 160, True, HS, 1),
        )
    ),
    # Table 2 (MobileNetV3-Small).
    "small": tuple(
        BlockConfig(*row)
        for row in (
            (3, 16, 16, True, RE, 2),
            (3, 72, 24, False, RE, 2),
            (3, 88, 24, False, RE, 1),
            (5, 96, 40, True, HS, 2),
            (5, 240, 40, True, HS, 1),
            (5, 240, 40, True, HS, 1),
            (5, 120, 48, True, HS, 1),
            (5, 144, 48, True, HS, 1),
            (5, 288, 96, True, HS, 2),
            (5, 576, 96, True, HS, 1),
            (5, 576, 96, True, HS, 1),
        )
    ),
}
STEM_CHANNELS = 16
FINAL_EXPANSION = 6  # the final 1x1 conv widens the last block's output 6x (960 / 576)


class BlockSpec(NamedTuple):
    """The arguments of one :class:`InvertedResidual` and its stage."""

    in_channels: int
    hidden_channels: int
    out_channels: int
    kernel_size: int
    se_channels: int
    act: str
    stride: int
    dilation: int
    stage: int


def _reduce_tail(rows: Sequence[BlockConfig]) -> list[BlockConfig]:
    """torchvision's ``reduced_tail``: halve the widths from the last strided block (C4) on; its
    expansion, which reads the unreduced C3 output, stays."""
    c4 = max(i for i, row in enumerate(rows) if row.stride > 1)
    return [
        row if i < c4 else row._replace(out=row.out // 2, expanded=row.expanded // (1 if i == c4 else 2))
        for i, row in enumerate(rows)
    ]


def mobilenet_v3_layout(
    arch: str, widen_factor: float, output_stride: int, reduced_tail: bool
) -> tuple[list[BlockSpec], dict[str, TapInfo], dict[str, str]]:
    """The blocks, the tap table (aliases included) and the aliases of MobileNetV3 ``arch``.

    Below output stride 32 the strided block that would pass it runs at stride 1 and from it on the rate
    is multiplied by its stride (torchvision's ``dilated=True``, which dilates the C4 block itself).
    """
    if arch not in ARCHS:
        raise ValueError(f"arch must be one of {', '.join(ARCHS)}, got '{arch}'")
    if output_stride not in (8, 16, 32):
        raise ValueError(f"output_stride must be 8, 16 or 32, got {output_stride}")
    rows = _reduce_tail(ARCHS[arch]) if reduced_tail else list(ARCHS[arch])
    in_channels = make_divisible(STEM_CHANNELS * widen_factor)
    taps = {"layer1": TapInfo(in_channels, 2)}
    specs: list[BlockSpec] = []
    stride, rate, stage, strided_layers = 2, 1, 1, []
    for index, row in enumerate(rows):
        layer = index + 2
        hidden, out = make_divisible(row.expanded * widen_factor), make_divisible(row.out * widen_factor)
        if hidden != in_channels:
            taps[f"layer{layer}_expansion"] = TapInfo(hidden, stride)
        block_stride = row.stride
        if row.stride > 1:
            strided_layers.append(layer)
            stage += int(index > 0)
            if stride == output_stride:
                block_stride, rate = 1, rate * row.stride
            else:
                stride *= row.stride
        se = make_divisible(hidden // 4) if row.se else 0
        specs.append(BlockSpec(in_channels, hidden, out, row.kernel, se, row.act, block_stride, rate, stage))
        taps[f"layer{layer}"] = TapInfo(out, stride)
        in_channels = out
    final = len(rows) + 2
    taps[f"layer{final}"] = TapInfo(FINAL_EXPANSION * in_channels, stride)
    aliases = {
        "low": f"layer{strided_layers[-3]}",
        "c4_expansion": f"layer{strided_layers[-1]}_expansion",
        "final": f"layer{final}",
    }
    return specs, alias_taps(taps, aliases), aliases


@MODELS.register_module()
class MobileNetV3(InvertedResidualBackbone):
    """MobileNetV3 feature extractor returning a dict of named taps (see the module docstring).

    Args:
        arch: ``"large"`` or ``"small"``.
        widen_factor: width multiplier; every width, the final conv's included, is rounded to a multiple
            of 8 (torchvision's ``width_mult``).
        output_stride: 32, 16 or 8; below 32 the last strides become dilation (16 = ``dilated=True``).
        reduced_tail: halve the widths from the C4 block on (torchvision's ``reduced_tail``).
        out_taps: names of the features ``forward`` returns.
        frozen_stages: -1 freezes nothing; 0 the stem; k the stem and the first k stages (a stage starts
            at each strided block: 5 in Large, 4 in Small); one more also the final conv.
        norm_eval: keep every BatchNorm in eval mode while training.
        bn_eps, bn_momentum: torchvision's 1e-3 and 0.01 (its SSDLite uses momentum 0.03).
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` loads a visionkit, torchvision or timm
            checkpoint (path, URL, ``torchvision://mobilenet_v3_large`` or ``timm://mobilenetv3_large_100``);
            other mmengine initialisers run after torchvision's init, as
            :class:`~visionkit.models.backbones.MobileNetV2`'s.
        memory_efficient_splits: as :class:`~visionkit.models.backbones.MobileNetV2`'s; blocks with
            squeeze-excite always run whole.
        zero_init_residual: as :class:`~visionkit.models.backbones.MobileNetV2`'s.
    """

    def __init__(
        self,
        arch: str = "large",
        widen_factor: float = 1.0,
        output_stride: int = 32,
        reduced_tail: bool = False,
        out_taps: Sequence[str] = ("final",),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.01,
        init_cfg: dict | None = None,
        memory_efficient_splits: int = 0,
        zero_init_residual: bool = False,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.arch, self.widen_factor, self.output_stride = arch, widen_factor, output_stride
        specs, self.taps, self.tap_aliases = mobilenet_v3_layout(
            arch, widen_factor, output_stride, reduced_tail
        )
        norm = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.stem = ConvNormAct(3, self.taps["layer1"].channels, 3, stride=2, act=HS, **norm)
        self.stage_of_block = [spec.stage for spec in specs]
        self.blocks = nn.ModuleList(
            InvertedResidual(
                spec.in_channels,
                spec.out_channels,
                spec.stride,
                dilation=spec.dilation,
                kernel_size=spec.kernel_size,
                act=spec.act,
                se_channels=spec.se_channels,
                hidden_channels=spec.hidden_channels,
                **norm,
            )
            for spec in specs
        )
        in_channels, final_channels = specs[-1].out_channels, self.taps["final"].channels
        block_parts = [
            [name for name in ("expand", "depthwise", "se", "project") if getattr(block, name) is not None]
            for block in self.blocks
        ]
        self._finish_init(
            out_taps,
            lambda: ConvNormAct(in_channels, final_channels, 1, act=HS, **norm),
            frozen_stages,
            norm_eval,
            key_converters=(
                partial(convert_torchvision_v3_backbone_keys, block_parts=block_parts),
                convert_timm_backbone_keys,
            ),
            zero_init_residual=zero_init_residual,
        )
        self.set_memory_efficient_splits(memory_efficient_splits)

    @classmethod
    def tap_table(
        cls,
        arch: str = "large",
        widen_factor: float = 1.0,
        output_stride: int = 32,
        reduced_tail: bool = False,
        **_: object,
    ) -> dict[str, TapInfo]:
        """Every tap (channels, stride) of this architecture, without building it."""
        return mobilenet_v3_layout(arch, widen_factor, output_stride, reduced_tail)[1]
