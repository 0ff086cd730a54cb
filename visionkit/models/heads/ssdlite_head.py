"""SSDLite prediction head (MobileNetV2 paper section 6.2): depthwise-separable SSD predictors.

Every regular 3x3 conv of SSD's predictors becomes a 3x3 depthwise conv (BN, ReLU6) followed by a 1x1
conv. Class convention: ``num_classes`` (K) object classes plus one background score **last**, at index
K (mmdet's convention), so a predicted class index is the dataset's contiguous label 0..K-1 unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn
from torchvision.ops import clip_boxes_to_image

from ...registry import MODELS, TASK_UTILS
from ...structures import DataSample
from ..box_ops import (
    IGNORE,
    SSDAnchorGenerator,
    decode_boxes,
    encode_boxes,
    flatten_levels,
    match_anchors,
    min_size_in_input,
    multiclass_nms,
    rescale_boxes,
)
from ..layers import ConvNormAct
from .detection_test_cfg import DetectionTestCfg


def detections_to_samples(
    outputs: dict[str, Tensor],
    data_samples: Sequence[DataSample],
    test_cfg: DetectionTestCfg | dict[str, Any],
    level_sizes: Sequence[int] | None = None,
) -> Sequence[DataSample]:
    """Detections into each sample: ``pred_bboxes`` (D, 4) xyxy original pixels, ``pred_scores`` (D,),
    ``pred_labels`` (D,) int64, rescaled by the sample's ``img_shape`` -> ``ori_shape`` (both default to
    ``batch_input_shape``).

    ``outputs``: either per-anchor ``scores`` (N, A, K) and decoded ``boxes`` (N, A, 4) in input pixels,
    which go through :func:`multiclass_nms` with the settings of ``test_cfg`` (:class:`DetectionTestCfg`;
    its ``nms_pre_per_level`` needs ``level_sizes``, the anchors of each level), or the padded result of
    :func:`padded_multiclass_nms` (``boxes``, ``scores``, ``labels``, ``num_detections``).
    """
    cfg = DetectionTestCfg.build(test_cfg)
    if cfg.nms_pre_per_level and level_sizes is None and "num_detections" not in outputs:
        raise ValueError("nms_pre_per_level needs the anchors of each level (level_sizes)")
    for index, sample in enumerate(data_samples):
        img_shape = sample.metainfo.get("img_shape", sample.metainfo["batch_input_shape"])[:2]
        ori_shape = sample.metainfo.get("ori_shape", img_shape)[:2]
        if "num_detections" in outputs:
            count = int(outputs["num_detections"][index])
            boxes, scores = outputs["boxes"][index, :count], outputs["scores"][index, :count]
            labels = outputs["labels"][index, :count]
        else:
            boxes = outputs["boxes"][index]
            if cfg.clip_border:
                boxes = clip_boxes_to_image(boxes, tuple(img_shape))
            boxes, scores, labels = multiclass_nms(
                boxes,
                outputs["scores"][index],
                cfg.score_thr,
                cfg.nms_pre,
                cfg.nms_iou,
                cfg.max_per_img,
                level_sizes if cfg.nms_pre_per_level else None,
                min_size_in_input(cfg.min_bbox_size, img_shape, ori_shape),
                cfg.topk_per_class,
                cfg.max_per_class,
                img_shape if cfg.clip_after_nms else None,
            )
        sample.pred_bboxes = rescale_boxes(boxes, img_shape, ori_shape)
        sample.pred_scores, sample.pred_labels = scores, labels
    return data_samples


class PredictionBlock(nn.Sequential):
    """3x3 depthwise conv (BN, ReLU6) -> 1x1 conv with bias to ``out_channels``."""

    def __init__(self, in_channels: int, out_channels: int, bn_eps: float, bn_momentum: float) -> None:
        super().__init__(
            ConvNormAct(
                in_channels, in_channels, 3, groups=in_channels, bn_eps=bn_eps, bn_momentum=bn_momentum
            ),
            nn.Conv2d(in_channels, out_channels, 1),
        )


@MODELS.register_module()
class SSDLiteHead(BaseModule):
    """Class scores and box deltas for every anchor of every feature map; SSD's loss and inference.

    Args:
        num_classes: K object classes (80 for COCO); scores have K + 1 per anchor, background at K.
        in_channels: channels of each input feature map (:class:`SSDDetector` fills them in).
        in_taps: the backbone taps read, in order, before the neck's maps (the neck runs on the last;
            default ``layer15_expansion``, ``final``).
        anchor_generator: an anchor generator (:mod:`~visionkit.models.box_ops.anchor_generators`) or its
            config; anchors per location come from it.
        box_stds: box coder stds (TF's scales 10, 10, 5, 5).
        pos_iou, neg_iou: matching thresholds, see :func:`match_anchors`.
        loss: the loss config (default ``dict(type='SSDLoss')``, see :class:`SSDLoss`).
        test_cfg: inference settings (score threshold, candidates, NMS, detections kept): a
            :class:`DetectionTestCfg` dict; defaults TF's.
        clamp_shrink: bound box shrinking as growth when decoding (mmdet), see :func:`decode_boxes`.
        bn_eps, bn_momentum: BatchNorm of the depthwise convs (TF's and torchvision's 1e-3 and 0.03).
        score_activation: ``'softmax'`` over the K + 1 scores, or ``'sigmoid'`` of each (TF's
            ``ssdlite_mobilenet_v2_coco``; the loss then needs ``use_sigmoid=True``); background dropped.
        init_cfg: ``None`` for torchvision's SSDLite init (TF's is alike): conv weights N(0, 0.03), bias 0.

    Needs the network input size (H, W) in each sample's metainfo ``batch_input_shape``
    (:class:`SSDDetector` sets it) to place the anchors.
    """

    default_in_taps: ClassVar[tuple[str, ...]] = ("layer15_expansion", "final")

    def __init__(
        self,
        num_classes: int,
        in_channels: Sequence[int],
        anchor_generator: dict | SSDAnchorGenerator,
        in_taps: Sequence[str] | None = None,
        box_stds: Sequence[float] = (0.1, 0.1, 0.2, 0.2),
        pos_iou: float = 0.5,
        neg_iou: float = 0.5,
        loss: dict | None = None,
        test_cfg: dict | None = None,
        clamp_shrink: bool = False,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.03,
        init_cfg: dict | None = None,
        score_activation: str = "softmax",
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if score_activation not in ("softmax", "sigmoid"):
            raise ValueError(f"score_activation must be 'softmax' or 'sigmoid', got '{score_activation}'")
        self.score_activation = score_activation
        if isinstance(anchor_generator, dict):
            anchor_generator = TASK_UTILS.build(anchor_generator)
        num_anchors = anchor_generator.num_anchors_per_location
        if len(in_channels) != len(num_anchors):
            raise ValueError(
                f"SSDLiteHead got {len(in_channels)} feature maps but its anchor generator has "
                f"{len(num_anchors)} levels"
            )
        self.num_classes, self.anchor_generator, self.box_stds = (
            num_classes,
            anchor_generator,
            tuple(box_stds),
        )
        self.pos_iou, self.neg_iou = pos_iou, neg_iou
        self.test_cfg, self.clamp_shrink = DetectionTestCfg.build(test_cfg), clamp_shrink
        self.in_taps = tuple(in_taps or self.default_in_taps)
        self.loss_module = MODELS.build(loss if loss is not None else dict(type="SSDLoss"))
        if getattr(self.loss_module, "use_sigmoid", False) != (score_activation == "sigmoid"):
            raise ValueError(
                f"SSDLiteHead scores by {score_activation}, but its loss is trained for the other: set "
                "loss=dict(type='SSDLoss', use_sigmoid=True) exactly when score_activation='sigmoid'"
            )
        norm = dict(bn_eps=bn_eps, bn_momentum=bn_momentum)
        self.cls_convs = nn.ModuleList(
            PredictionBlock(c, n * (num_classes + 1), **norm)
            for c, n in zip(in_channels, num_anchors, strict=True)
        )
        self.reg_convs = nn.ModuleList(
            PredictionBlock(c, n * 4, **norm) for c, n in zip(in_channels, num_anchors, strict=True)
        )

    def init_weights(self) -> None:
        if self.init_cfg is not None:
            super().init_weights()
            return
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.normal_(module.weight, 0.0, 0.03)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, feats: Sequence[Tensor]) -> tuple[list[Tensor], list[Tensor]]:
        """feats[k]: (N, C_k, H_k, W_k) -> class scores (N, A_k * (K + 1), H_k, W_k) and box deltas
        (N, A_k * 4, H_k, W_k) per level, A_k anchors per location."""
        cls_scores = [conv(x) for conv, x in zip(self.cls_convs, feats, strict=True)]
        bbox_preds = [conv(x) for conv, x in zip(self.reg_convs, feats, strict=True)]
        return cls_scores, bbox_preds

    def anchors(self, cls_scores: list[Tensor], data_samples: Sequence[DataSample]) -> Tensor:
        """All anchors (A, 4) xyxy in network-input pixels for this batch's input and feature sizes."""
        input_size = data_samples[0].metainfo.get("batch_input_shape")
        if input_size is None:
            raise ValueError(
                "SSDLiteHead needs metainfo 'batch_input_shape' (H, W of the network input) to place "
                "anchors: SSDDetector sets it; set it yourself when calling the head directly"
            )
        feature_sizes = [tuple(score.shape[-2:]) for score in cls_scores]
        anchors, _ = self.anchor_generator(tuple(input_size), feature_sizes, cls_scores[0].device)
        return anchors

    def get_targets(self, anchors: Tensor, data_samples: Sequence[DataSample]) -> tuple[Tensor, Tensor]:
        """Labels (B, A) int64 (0..K-1 class, K background, -1 ignored) and encoded box targets (B, A, 4)
        from each sample's ``gt_bboxes`` (N, 4) xyxy network-input pixels and ``gt_labels`` (N,)."""
        all_labels, all_targets = [], []
        for sample in data_samples:
            gt_bboxes = sample.gt_bboxes.to(anchors)
            gt_labels = sample.gt_labels.to(anchors.device, torch.int64)
            matched = match_anchors(gt_bboxes, anchors, self.pos_iou, self.neg_iou)
            labels = torch.full_like(matched, self.num_classes)
            labels[matched == IGNORE] = -1
            positive = matched >= 0
            labels[positive] = gt_labels[matched[positive]]
            targets = torch.zeros_like(anchors)
            targets[positive] = encode_boxes(gt_bboxes[matched[positive]], anchors[positive], self.box_stds)
            all_labels.append(labels)
            all_targets.append(targets)
        return torch.stack(all_labels), torch.stack(all_targets)

    def loss(self, feats: Sequence[Tensor], data_samples: Sequence[DataSample]) -> dict[str, Tensor]:
        """``dict(loss_cls=..., loss_bbox=...)``, see :class:`SSDLoss`."""
        cls_scores, bbox_preds = self(feats)
        labels, box_targets = self.get_targets(self.anchors(cls_scores, data_samples), data_samples)
        cls_logits = flatten_levels(cls_scores, self.num_classes + 1)
        return self.loss_module(cls_logits, flatten_levels(bbox_preds, 4), labels, box_targets)

    def decode(
        self, cls_scores: list[Tensor], bbox_preds: list[Tensor], anchors: Tensor
    ) -> tuple[Tensor, Tensor]:
        """Per-level outputs and anchors (A, 4) -> ``scores`` (N, A, K) softmax (or sigmoid) without the
        background and ``boxes`` (N, A, 4) decoded xyxy in input pixels."""
        logits = flatten_levels(cls_scores, self.num_classes + 1)
        scores = logits.sigmoid() if self.score_activation == "sigmoid" else logits.softmax(dim=-1)
        scores = scores[..., : self.num_classes]
        deltas = flatten_levels(bbox_preds, 4)
        return scores, decode_boxes(deltas, anchors, self.box_stds, clamp_shrink=self.clamp_shrink)

    def level_sizes(self, cls_scores: list[Tensor]) -> list[int]:
        """Anchors of each level (H_k * W_k * A_k) for per-level outputs."""
        per_location = self.anchor_generator.num_anchors_per_location
        sizes = [score.shape[-2:] for score in cls_scores]
        return [h * w * n for (h, w), n in zip(sizes, per_location, strict=True)]

    def predict(self, feats: Sequence[Tensor], data_samples: Sequence[DataSample]) -> Sequence[DataSample]:
        """Adds ``pred_bboxes`` (D, 4) xyxy original-image pixels, ``pred_scores`` (D,) and
        ``pred_labels`` (D,) int64 to each sample (:func:`detections_to_samples`)."""
        cls_scores, bbox_preds = self(feats)
        scores, boxes = self.decode(cls_scores, bbox_preds, self.anchors(cls_scores, data_samples))
        outputs = {"scores": scores, "boxes": boxes}
        level_sizes = self.level_sizes(cls_scores)
        return detections_to_samples(outputs, data_samples, self.test_cfg, level_sizes)
