"""Semantic segmentor task model: backbone -> decode head (+ auxiliary head), on mmengine's ``BaseModel``.

Test-time options (``test_cfg``), as in TF DeepLab's eval and mmsegmentation:

- ``mode='whole'``: the whole (padded) batch in one pass.
- ``mode='slide'``: windows of ``crop_size`` (H, W) every ``stride`` (H, W) pixels; logits of
  overlapping windows are averaged.
- ``scales`` (e.g. ``(0.5, 0.75, 1.0, 1.25, 1.5, 1.75)``) and ``flip=True``: the paper's "MF"
  (multi-scale inputs + left-right flip, Table 7). Each pass's logits are resized to the input size and
  their softmax probabilities averaged, as TF DeepLab does.
- ``with_logits=True``: also store ``seg_logits`` (K, H0, W0) in each sample (the averaged probabilities
  when several passes are combined).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import torch.nn.functional as F
from torch import Tensor, nn

from ...registry import MODELS
from ...structures import DataSample
from ..backbones import backbone_taps, build_tapped_backbone, fill_in_channels, head_taps, union_taps
from ..converters.tf_deeplab import convert_tf_deeplab_keys
from ..converters.torchvision_segmentation import convert_torchvision_segmentation_keys
from ..heads.seg_head import resize_logits, seg_logits_to_samples
from .task_model import ExportHead, TaskModel

TEST_CFG_DEFAULTS: dict[str, Any] = dict(
    mode="whole", crop_size=None, stride=None, scales=(1.0,), flip=False, with_logits=False
)


def _check_test_cfg(test_cfg: dict | None) -> dict[str, Any]:
    cfg = dict(TEST_CFG_DEFAULTS, **(test_cfg or {}))
    unknown = sorted(set(cfg) - set(TEST_CFG_DEFAULTS))
    if unknown:
        raise ValueError(f"Unknown Segmentor test_cfg keys {unknown}; valid: {sorted(TEST_CFG_DEFAULTS)}")
    if cfg["mode"] not in ("whole", "slide"):
        raise ValueError(f"test_cfg.mode must be 'whole' or 'slide', got '{cfg['mode']}'")
    if cfg["mode"] == "slide" and (cfg["crop_size"] is None or cfg["stride"] is None):
        raise ValueError("test_cfg.mode='slide' needs crop_size=(H, W) and stride=(H, W)")
    if not cfg["scales"]:
        raise ValueError("test_cfg.scales must list at least one scale")
    return cfg


class SegmentorExportHead(ExportHead):
    """taps -> ``logits`` (N, K, H, W) at the input size and ``labels`` (N, H, W) int64, their argmax.

    H and W stay dynamic: the graph takes any input size.
    """

    output_names = ("logits", "labels")

    def __init__(self, decode_head: nn.Module) -> None:
        super().__init__()
        self.decode_head = decode_head

    def forward(self, taps: dict[str, Tensor], inputs: Tensor) -> tuple[Tensor, Tensor]:
        # resize_logits' bilinear resize, without its int(size), which would fix H and W in a graph.
        align = self.decode_head.align_corners
        logits = F.interpolate(
            self.decode_head(taps), size=inputs.shape[-2:], mode="bilinear", align_corners=align
        )
        return logits, logits.argmax(dim=1)


@MODELS.register_module()
class Segmentor(TaskModel):
    """Wires a backbone, a decode head and an optional auxiliary head; holds no head logic.

    Each head's ``in_channels`` defaults to the channels of the backbone taps it reads (``in_taps``); the
    backbone returns the taps the heads read.
    ``build_backbone=False`` builds the heads alone, for a :class:`MultiTaskModel`. torchvision
    ``deeplabv3_*`` / ``lraspp_*`` state dicts load as-is (:mod:`..converters.torchvision_segmentation`).

    ``forward(inputs, data_samples, mode)``: ``'tensor'`` -> decode-head logits (N, K, h, w) at its tap's
    resolution; ``'loss'`` -> ``{'decode.loss_ce', 'aux.loss_ce'}``; ``'predict'`` -> the samples with
    ``pred_seg_map`` (H0, W0) int64 at ``ori_shape`` (see :class:`TaskModel`).
    """

    kind = "segmentation"

    def __init__(
        self,
        backbone: dict,
        decode_head: dict,
        auxiliary_head: dict | None = None,
        data_preprocessor: dict | None = None,
        test_cfg: dict | None = None,
        init_cfg: dict | None = None,
        build_backbone: bool = True,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        heads = [dict(decode_head)] + ([] if auxiliary_head is None else [dict(auxiliary_head)])
        read = [head_taps(head) for head in heads]
        self.in_taps = union_taps(*read)
        taps = backbone_taps(backbone, self.in_taps)
        for head in heads:
            fill_in_channels(head, taps)
        self.decode_head = MODELS.build(heads[0])
        self.auxiliary_head = MODELS.build(heads[1]) if auxiliary_head is not None else None
        self.backbone = build_tapped_backbone(backbone, self.in_taps) if build_backbone else None
        self.test_cfg = _check_test_cfg(test_cfg)
        self._register_load_state_dict_pre_hook(
            partial(convert_torchvision_segmentation_keys, has_auxiliary_head=auxiliary_head is not None)
        )
        branches = [type(b).__name__ for b in getattr(self.decode_head, "branches", ())]
        if "ImagePooling" in branches:  # an ASPP head: TF DeepLab's checkpoints load into it
            pool, aspp0 = branches.index("ImagePooling"), branches.index("ConvNormAct")
            hook = partial(convert_tf_deeplab_keys, pool_branch=pool, aspp0_branch=aspp0)
            self._register_load_state_dict_pre_hook(hook)

    @property
    def single_pass(self) -> bool:
        """True when ``test_cfg`` is one whole-image pass at scale 1 without flip (no re-run backbone)."""
        cfg = self.test_cfg
        return cfg["mode"] == "whole" and tuple(cfg["scales"]) == (1.0,) and not cfg["flip"]

    def forward_taps(
        self, taps: dict[str, Tensor], data_samples: list[DataSample], mode: str
    ) -> Tensor | dict[str, Tensor] | list[DataSample]:
        """``forward`` from computed backbone taps; the samples already carry ``batch_input_shape``.

        Lets a :class:`MultiTaskModel` run these heads on a shared backbone. ``'predict'`` is the
        single whole-image pass only: slide, multi-scale and flip need the backbone (see ``predict``).
        """
        if mode == "tensor":
            return self.decode_head(taps)
        if mode == "loss":
            losses = {f"decode.{k}": v for k, v in self.decode_head.loss(taps, data_samples).items()}
            if self.auxiliary_head is not None:
                losses |= {f"aux.{k}": v for k, v in self.auxiliary_head.loss(taps, data_samples).items()}
            return losses
        if mode != "predict":
            raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got '{mode}'")
        if not self.single_pass:
            raise ValueError(
                f"Segmentor test_cfg {self.test_cfg} needs the whole model (slide / scales / flip re-run "
                "the backbone); predicting from taps supports only mode='whole', scales=(1.0,), flip=False"
            )
        return self.decode_head.predict(taps, data_samples, self.test_cfg["with_logits"])

    def export_head(
        self, input_size: Sequence[int] | None = None, postprocess: bool = True
    ) -> SegmentorExportHead:
        """Logits and labels at the input size, one whole-image pass (any input size)."""
        if not self.single_pass:
            raise ValueError(
                f"Only a single whole-image pass exports, but the segmentor's test_cfg is {self.test_cfg}: "
                "set --cfg-options model.test_cfg.mode=whole model.test_cfg.scales=[1.0] "
                "model.test_cfg.flip=False"
            )
        return SegmentorExportHead(self.decode_head)

    def postprocess_settings(self) -> dict[str, Any]:
        return {"with_logits": bool(self.test_cfg["with_logits"])}

    @classmethod
    def outputs_to_samples(
        cls, outputs: dict[str, Tensor], data_samples: Sequence[DataSample], settings: dict[str, Any]
    ) -> Sequence[DataSample]:
        """``logits`` (N, K, H, W) at the input size -> ``pred_seg_map`` at each ``ori_shape``."""
        return seg_logits_to_samples(outputs["logits"], data_samples, bool(settings.get("with_logits")))

    def predict(self, inputs: Tensor, data_samples: Sequence[DataSample]) -> Sequence[DataSample]:
        """Predictions by ``test_cfg``; a single whole-image pass goes straight to the decode head."""
        if self.single_pass:
            return self.forward_taps(self.backbone(inputs), list(data_samples), "predict")
        return seg_logits_to_samples(self.combined_scores(inputs), data_samples, self.test_cfg["with_logits"])

    def combined_scores(self, inputs: Tensor) -> Tensor:
        """(N, K, H, W) scores at the input size over ``test_cfg``'s scales and flips.

        One pass gives its logits; several give their mean softmax probability.
        """
        size = inputs.shape[-2:]
        passes = [
            (s, f)
            for s in self.test_cfg["scales"]
            for f in ((False, True) if self.test_cfg["flip"] else (False,))
        ]
        total: Tensor | None = None
        for scale, flip in passes:
            scaled = inputs
            if scale != 1.0:
                scaled_size = (max(1, round(size[0] * scale)), max(1, round(size[1] * scale)))
                scaled = F.interpolate(inputs, size=scaled_size, mode="bilinear", align_corners=False)
            if flip:
                scaled = scaled.flip(-1)
            logits = self._slide_logits(scaled) if self.test_cfg["mode"] == "slide" else self._logits(scaled)
            if flip:
                logits = logits.flip(-1)
            logits = resize_logits(logits, size, self.decode_head.align_corners)
            scores = logits if len(passes) == 1 else logits.softmax(dim=1)
            total = scores if total is None else total + scores
        return total / len(passes)

    def _logits(self, inputs: Tensor) -> Tensor:
        """Decode-head logits (N, K, H, W) upsampled to the size of ``inputs``."""
        logits = self.decode_head(self.backbone(inputs))
        return resize_logits(logits, inputs.shape[-2:], self.decode_head.align_corners)

    def _slide_logits(self, inputs: Tensor) -> Tensor:
        """Logits (N, K, H, W) averaged over ``crop_size`` windows placed every ``stride`` pixels.

        Windows cover the image; the last row/column is shifted back to end at the border. An image
        smaller than the window is one window of the image's size.
        """
        crop_h, crop_w = self.test_cfg["crop_size"]
        stride_h, stride_w = self.test_cfg["stride"]
        height, width = inputs.shape[-2:]
        total = inputs.new_zeros((inputs.shape[0], self.decode_head.num_classes, height, width))
        count = inputs.new_zeros((1, 1, height, width))
        for y1 in _window_starts(height, crop_h, stride_h):
            for x1 in _window_starts(width, crop_w, stride_w):
                y2, x2 = min(y1 + crop_h, height), min(x1 + crop_w, width)
                total[:, :, y1:y2, x1:x2] += self._logits(inputs[:, :, y1:y2, x1:x2])
                count[:, :, y1:y2, x1:x2] += 1
        return total / count


def _window_starts(length: int, crop: int, stride: int) -> Sequence[int]:
    """Start offsets of windows of size ``crop`` every ``stride`` covering ``length`` (last one flush)."""
    if length <= crop:
        return [0]
    starts = list(range(0, length - crop, stride))
    return [*starts, length - crop]
