"""MobileNetV2 backbone (Sandler et al., arXiv 1801.04381, Table 2) with named feature taps.

Layers are numbered as in TF slim and the TF object detection API: ``layer1`` is the stem conv,
``layer2`` .. ``layer18`` are the 17 inverted residual blocks and ``layer19`` is the 1x1 conv to 1280
channels. Taps (channels and stride at width 1.0, output stride 32):

==========================  ========  ======  ==========================================
tap                         channels  stride  what
==========================  ========  ======  ==========================================
``layer1``                  32        2       stem conv
``layer2``                  16        2       end of stage 1 (t=1)
``layer4``                  24        4       end of stage 2
``layer7``                  32        8       end of stage 3
``layer11``                 64        16      end of stage 4
``layer14``                 96        16      end of stage 5
``layer17``                 160       32      end of stage 6
``layer18``                 320       32      end of stage 7 (DeepLab's MNV2* head input)
``layer19`` / ``final``     1280      32      1x1 conv to 1280 (the classifier's input)
``layer{n}_expansion``      6 x in    input   expand activation of block n, before its depthwise;
                                              ``layer15_expansion`` = 576 ch, stride 16 (SSDLite)
==========================  ========  ======  ==========================================

Every ``layer{n}`` (1..19) is a tap. ``output_stride`` 16 or 8 turns later strides into dilation the way
TF slim's ``mobilenet_base`` does: the block that would pass the output stride keeps the current rate
with stride 1, and the rate is multiplied by its stride for the blocks after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import NamedTuple

from torch import nn

from ...registry import MODELS
from ..converters.mmdet_mobilenet_v2 import convert_mmdet_backbone_keys
from ..converters.paddleclas_mobilenet_v2 import convert_paddleclas_backbone_keys
from ..converters.tf_slim_mobilenet_v2 import convert_tf_backbone_keys
from ..converters.timm_mobilenet import convert_timm_backbone_keys
from ..converters.torchvision_mobilenet_v2 import convert_torchvision_backbone_keys
from ..layers import ConvNormAct, InvertedResidual, make_divisible
from .inverted_residual_backbone import InvertedResidualBackbone
from .taps import TapInfo

# (expansion t, output channels c, repeats n, first stride s): paper Table 2.
ARCH: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
FINAL_CHANNELS = 1280


class BlockSpec(NamedTuple):
    """One inverted residual of the layout: its arguments and its stage (1..7) in ``ARCH``."""

    in_channels: int
    out_channels: int
    stride: int
    expand_ratio: int
    dilation: int
    stage: int


# How a width times ``widen_factor`` becomes a channel count: TF slim's rule (torchvision, timm, mmdet) or
# PaddleClas's ``int(c * scale)``, which truncates (x0.25: 8, 4, 6, 8, 16, 24, 40, 80 channels).
WIDTH_ROUNDING = {"divisible": make_divisible, "floor": int}


def mobilenet_v2_layout(
    widen_factor: float,
    output_stride: int,
    width_rounding: str = "divisible",
    expand_first_block: bool = False,
    stage_repeats: Sequence[int] | None = None,
    stem_channels: int | None = None,
    final_channels: int | None = None,
) -> tuple[list[BlockSpec], dict[str, TapInfo]]:
    """The blocks and the tap table of MobileNetV2 at ``widen_factor`` and ``output_stride`` (the other
    arguments are :class:`MobileNetV2`'s).

    Below output stride 32 the block that would pass it keeps the current rate with stride 1, and the rate
    is multiplied by its stride for the blocks after it (TF slim's ``mobilenet_base``).
    """
    if width_rounding not in WIDTH_ROUNDING:
        raise ValueError(f"width_rounding must be one of {', '.join(WIDTH_ROUNDING)}, got '{width_rounding}'")
    repeats = [n for _, _, n, _ in ARCH] if stage_repeats is None else list(stage_repeats)
    if len(repeats) != len(ARCH) or not all(isinstance(n, int) and n >= 1 for n in repeats):
        raise ValueError(f"stage_repeats must be {len(ARCH)} ints >= 1 (paper: 1 2 3 4 3 3 1), got {repeats}")
    width = WIDTH_ROUNDING[width_rounding]
    stem_channels = width(32 * widen_factor) if stem_channels is None else stem_channels
    taps = {"layer1": TapInfo(stem_channels, 2)}
    specs: list[BlockSpec] = []
    in_channels, stride, rate = stem_channels, 2, 1
    for stage, ((t, c, _, s), n) in enumerate(zip(ARCH, repeats, strict=True), start=1):
        out_channels = width(c * widen_factor)
        for i in range(n):
            block_stride = s if i == 0 else 1
            layer = len(specs) + 2
            if t != 1 or expand_first_block:
                taps[f"layer{layer}_expansion"] = TapInfo(round(in_channels * t), stride)
            if stride == output_stride and block_stride > 1:
                specs.append(BlockSpec(in_channels, out_channels, 1, t, rate, stage))
                rate *= block_stride
            else:
                specs.append(BlockSpec(in_channels, out_channels, block_stride, t, rate, stage))
                stride *= block_stride
            taps[f"layer{layer}"] = TapInfo(out_channels, stride)
            in_channels = out_channels
    if final_channels is None:
        final_channels = width(FINAL_CHANNELS * max(1.0, widen_factor))
    taps[f"layer{len(specs) + 2}"] = taps["final"] = TapInfo(final_channels, stride)
    return specs, taps


@MODELS.register_module()
class MobileNetV2(InvertedResidualBackbone):
    """MobileNetV2 feature extractor returning a dict of named taps.

    Args:
        widen_factor: width multiplier alpha; channels are rounded to multiples of 8 and the final 1280
            only grows (alpha > 1), as in the paper.
        output_stride: 32, 16 or 8; below 32, strides of the later blocks become dilation.
        out_taps: names of the features ``forward`` returns (see the module docstring).
        frozen_stages: -1 freezes nothing; 0 the stem; k in 1..7 the stem and the first k bottleneck
            stages; 8 everything including ``layer19``. Frozen parts keep BN in eval mode.
        norm_eval: keep every BatchNorm in eval mode while training (statistics and affine frozen
            in place only for the running stats; affine still trains unless frozen).
        init_cfg: ``dict(type='Pretrained', checkpoint=...)`` loads a visionkit, torchvision, mmdetection,
            timm or PaddleClas checkpoint (path, URL, ``torchvision://mobilenet_v2``, ``timm://NAME``...);
            any other mmengine initialiser (``dict(type='TruncNormal', layer='Conv2d', std=0.03)``, or a
            list) runs after torchvision's init (see :meth:`InvertedResidualBackbone.init_weights`).
        memory_efficient_splits: k > 1 computes every inverted residual in k slices of its expansion at
            inference (paper section 5.1; see :class:`InvertedResidual`); 0 is off. The paper's k = 2..5
            keeps the speed. A requested ``layer{n}_expansion`` tap makes its block run whole.
        zero_init_residual: start the last BN scale of every residual block at 0 (each block begins as the
            identity) when training from scratch; ignored when ``init_cfg`` loads a checkpoint.
        width_rounding: ``"divisible"`` rounds ``c * widen_factor`` to a multiple of 8 (TF slim, torchvision,
            timm, mmdet); ``"floor"`` truncates it, ``int(c * widen_factor)`` (PaddleClas: x0.25, 0.5, 0.75
            and 1.5 differ).
        expand_first_block: give the t=1 block a 1x1 expand conv too (in -> in channels), as PaddleClas does.
        stage_repeats: blocks per stage, 7 ints (default the paper's 1, 2, 3, 4, 3, 3, 1; timm's
            ``mobilenetv2_110d`` 1, 3, 4, 5, 4, 4, 1 and ``_120d`` 1, 3, 5, 6, 5, 5, 1). Layers are numbered
            over all blocks, so the final conv is ``layer{blocks + 2}``.
        stem_channels, final_channels: fixed widths of the stem and the final 1x1 conv instead of the
            ones ``widen_factor`` gives (timm's ``fix_stem_head``: 32 and 1280).
        tf_padding: pad the stride-2 convs as TF's ``'SAME'`` (0 before, 1 after on even sizes), as TF-slim,
            TF DeepLab and the TF object detection API ran the checkpoints they published.
    """

    def __init__(
        self,
        widen_factor: float = 1.0,
        output_stride: int = 32,
        out_taps: Sequence[str] = ("final",),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
        init_cfg: dict | None = None,
        memory_efficient_splits: int = 0,
        zero_init_residual: bool = False,
        width_rounding: str = "divisible",
        expand_first_block: bool = False,
        stage_repeats: Sequence[int] | None = None,
        stem_channels: int | None = None,
        final_channels: int | None = None,
        tf_padding: bool = False,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if output_stride not in (8, 16, 32):
            raise ValueError(f"output_stride must be 8, 16 or 32, got {output_stride}")
        self.widen_factor, self.output_stride = widen_factor, output_stride
        norm = dict(bn_eps=bn_eps, bn_momentum=bn_momentum, tf_padding=tf_padding)
        layout = dict(
            width_rounding=width_rounding,
            expand_first_block=expand_first_block,
            stage_repeats=stage_repeats,
            stem_channels=stem_channels,
            final_channels=final_channels,
        )
        specs, self.taps = mobilenet_v2_layout(widen_factor, output_stride, **layout)
        self.stem = ConvNormAct(3, self.taps["layer1"].channels, 3, stride=2, **norm)
        self.stage_of_block = [spec.stage for spec in specs]
        self.blocks = nn.ModuleList(
            InvertedResidual(
                spec.in_channels,
                spec.out_channels,
                spec.stride,
                spec.expand_ratio,
                spec.dilation,
                always_expand=expand_first_block,
                **norm,
            )
            for spec in specs
        )
        in_channels, final_channels = specs[-1].out_channels, self.taps["final"].channels
        self.tap_aliases = {"final": f"layer{len(specs) + 2}"}
        repeats = [self.stage_of_block.count(stage) for stage in range(1, len(ARCH) + 1)]
        self._finish_init(
            out_taps,
            lambda: ConvNormAct(in_channels, final_channels, 1, **norm),
            frozen_stages,
            norm_eval,
            key_converters=(
                convert_torchvision_backbone_keys,
                partial(convert_mmdet_backbone_keys, stage_repeats=repeats),
                partial(convert_timm_backbone_keys, stage_repeats=repeats),
                partial(
                    convert_paddleclas_backbone_keys,
                    stage_repeats=repeats,
                    expands_first_block=expand_first_block,
                ),
                convert_tf_backbone_keys,
            ),
            zero_init_residual=zero_init_residual,
        )
        self.set_memory_efficient_splits(memory_efficient_splits)

    @classmethod
    def tap_table(
        cls,
        widen_factor: float = 1.0,
        output_stride: int = 32,
        width_rounding: str = "divisible",
        expand_first_block: bool = False,
        stage_repeats: Sequence[int] | None = None,
        stem_channels: int | None = None,
        final_channels: int | None = None,
        **_: object,
    ) -> dict[str, TapInfo]:
        """Every tap (channels, stride) of this architecture, without building it."""
        return mobilenet_v2_layout(
            widen_factor,
            output_stride,
            width_rounding,
            expand_first_block,
            stage_repeats,
            stem_channels,
            final_channels,
        )[1]
