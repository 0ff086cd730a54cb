"""SSDLite prediction head (MobileNetV2 paper section 6.2): depthwise-separable SSD predictors.

Every regular 3x3 conv of SSD's predictors becomes a 3x3 depthwise conv (BN, ReLU6) followed by a 1x1
conv. Class convention: ``num_classes`` (K) object classes plus one background score **last**, at index
K (mmdet's convention), so a predicted class index is the dataset's contiguous label 0..K-1 unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn
from torchvision.ops import batched_nms, clip_boxes_to_image

from ...registry import MODELS, TASK_UTILS
from ...structures import DataSample
from ..box_ops import IGNORE, SSDAnchorGenerator, decode_boxes, encode_boxes, match_anchors
from ..layers import ConvNormAct
from ..losses import SSDLoss


def top_candidates(
    scores: Tensor, score_thr: float, nms_pre: int, level_sizes: Sequence[int] | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """The highest scoring (anchor, class) pairs above ``score_thr``, best first within each level.

    Args:
        scores: (A, K) class probabilities without background.
        nms_pre: pairs kept over all levels together, or per level when ``level_sizes`` (anchors of each
            level, summing to A) is given (mmdetection's ``nms_pre``).

    Returns:
        anchor indices (P,), labels (P,) int64 and scores (P,).
    """
    num_classes = scores.shape[1]
    anchor_indices, labels, top = [], [], []
    start = 0
    for size in level_sizes if level_sizes is not None else [len(scores)]:
        level = scores[start : start + size].flatten()
        candidates = torch.nonzero(level > score_thr).squeeze(1)
        level_top, order = level[candidates].topk(min(nms_pre, len(candidates)))
        candidates = candidates[order]
        anchor_indices.append(candidates // num_classes + start)
        labels.append(candidates % num_classes)
        top.append(level_top)
        start += size
    return torch.cat(anchor_indices), torch.cat(labels), torch.cat(top)


def multiclass_nms(
    boxes: Tensor,
    scores: Tensor,
    score_thr: float,
    nms_pre: int,
    iou_thr: float,
    max_per_img: int,
    level_sizes: Sequence[int] | None = None,
    min_size: tuple[float, float] | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Per-class NMS of one image's decoded anchors.

    Args:
        boxes: (A, 4) xyxy; scores: (A, K) class probabilities without background.
        score_thr: (anchor, class) pairs at or below it are dropped.
        nms_pre: at most this many (anchor, class) pairs, the highest scoring over all classes and
            levels (per level with ``level_sizes``, see :func:`top_candidates`), go into NMS.
        iou_thr: NMS IoU threshold, applied within each class.
        max_per_img: detections kept after NMS, highest score first.
        min_size: (width, height); candidates not larger in both are dropped before NMS.

    Returns:
        boxes (D, 4), scores (D,), labels (D,) int64 with D <= max_per_img.
    """
    anchor_index, labels, top_scores = top_candidates(scores, score_thr, nms_pre, level_sizes)
    boxes = boxes[anchor_index]
    if min_size is not None:
        sizes = boxes[:, 2:] - boxes[:, :2]
        valid = (sizes > sizes.new_tensor(min_size)).all(dim=1)
        boxes, labels, top_scores = boxes[valid], labels[valid], top_scores[valid]
    keep = batched_nms(boxes, top_scores, labels, iou_thr)[:max_per_img]
    return boxes[keep], top_scores[keep], labels[keep]


def rescale_boxes(boxes: Tensor, img_shape: Sequence[int], ori_shape: Sequence[int]) -> Tensor:
    """Boxes (D, 4) xyxy in network-input pixels of an image resized ``ori_shape`` -> ``img_shape``
    (both (H, W)) -> xyxy in original pixels, clipped to the original image."""
    scale_y, scale_x = ori_shape[0] / img_shape[0], ori_shape[1] / img_shape[1]
    boxes = boxes * boxes.new_tensor([scale_x, scale_y, scale_x, scale_y])
    limits = boxes.new_tensor([ori_shape[1], ori_shape[0], ori_shape[1], ori_shape[0]])
    return torch.minimum(boxes.clamp(min=0), limits)


def min_size_in_input(
    min_bbox_size: float | None, img_shape: Sequence[int], ori_shape: Sequence[int]
) -> tuple[float, float] | None:
    """``min_bbox_size`` original-image pixels as (width, height) network-input pixels (shapes (H, W))."""
    if min_bbox_size is None:
        return None
    return min_bbox_size * img_shape[1] / ori_shape[1], min_bbox_size * img_shape[0] / ori_shape[0]


def flatten_levels(outs: list[Tensor], channels: int) -> Tensor:
    """Per-level (N, A_k * channels, H, W) -> (N, sum_k H * W * A_k, channels) in anchor order.

    Written without ``len(tensor)`` so an ONNX export keeps the batch axis dynamic.
    """
    return torch.cat([out.permute(0, 2, 3, 1).flatten(1).unflatten(1, (-1, channels)) for out in outs], dim=1)


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
        anchor_generator: an :class:`SSDAnchorGenerator` or its config; anchors per location come from it.
        box_stds: box coder stds (TF's scales 10, 10, 5, 5).
        pos_iou, neg_iou: matching thresholds, see :func:`match_anchors`.
        neg_pos_ratio, min_negatives, smooth_l1_beta, loss_cls_weight, loss_bbox_weight: see :class:`SSDLoss`.
        score_thr, nms_pre, nms_iou, max_per_img: inference, see :func:`multiclass_nms` (defaults: TF's
            NMS IoU 0.6 and 100 detections; mmdet uses 0.02, 1000, 0.45, 200).
        nms_pre_per_level: ``nms_pre`` counts per feature level (mmdet) instead of over all of them.
        clip_border: clip decoded boxes to the image (``img_shape``) before NMS (mmdet's ``clip_border``).
        min_bbox_size: drop candidates not wider and taller than this many original-image pixels before
            NMS (mmdet's ``min_bbox_size=0`` drops empty boxes); ``None`` keeps all.
        clamp_shrink: bound box shrinking as growth when decoding (mmdet), see :func:`decode_boxes`.
        bn_eps, bn_momentum: BatchNorm of the depthwise convs (TF's and torchvision's 1e-3 and 0.03).
        init_cfg: ``None`` for torchvision's SSDLite init (TF's is alike): conv weights N(0, 0.03), bias 0.

    Needs the network input size (H, W) in each sample's metainfo ``batch_input_shape``
    (:class:`SSDDetector` sets it) to place the anchors.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: Sequence[int],
        anchor_generator: dict | SSDAnchorGenerator,
        box_stds: Sequence[float] = (0.1, 0.1, 0.2, 0.2),
        pos_iou: float = 0.5,
        neg_iou: float = 0.5,
        neg_pos_ratio: int = 3,
        min_negatives: int = 3,
        smooth_l1_beta: float = 1.0,
        loss_cls_weight: float = 1.0,
        loss_bbox_weight: float = 1.0,
        score_thr: float = 0.01,
        nms_pre: int = 1000,
        nms_iou: float = 0.6,
        max_per_img: int = 100,
        nms_pre_per_level: bool = False,
        clip_border: bool = False,
        min_bbox_size: float | None = None,
        clamp_shrink: bool = False,
        bn_eps: float = 1e-3,
        bn_momentum: float = 0.03,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
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
        self.score_thr, self.nms_pre, self.nms_iou, self.max_per_img = (
            score_thr,
            nms_pre,
            nms_iou,
            max_per_img,
        )
        self.nms_pre_per_level, self.clip_border = nms_pre_per_level, clip_border
        self.min_bbox_size, self.clamp_shrink = min_bbox_size, clamp_shrink
        self.loss_module = SSDLoss(
            neg_pos_ratio, min_negatives, smooth_l1_beta, loss_cls_weight, loss_bbox_weight
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

    def predict(self, feats: Sequence[Tensor], data_samples: Sequence[DataSample]) -> Sequence[DataSample]:
        """Adds ``pred_bboxes`` (D, 4) xyxy original-image pixels, ``pred_scores`` (D,) and
        ``pred_labels`` (D,) int64 to each sample, using its metainfo ``img_shape`` and ``ori_shape``
        (both default to the network input size)."""
        cls_scores, bbox_preds = self(feats)
        anchors = self.anchors(cls_scores, data_samples)
        scores = flatten_levels(cls_scores, self.num_classes + 1).softmax(dim=-1)[..., : self.num_classes]
        deltas = flatten_levels(bbox_preds, 4)
        level_sizes = None
        if self.nms_pre_per_level:
            per_location = self.anchor_generator.num_anchors_per_location
            sizes = [score.shape[-2:] for score in cls_scores]
            level_sizes = [h * w * n for (h, w), n in zip(sizes, per_location, strict=True)]
        for sample, image_scores, image_deltas in zip(data_samples, scores, deltas, strict=True):
            img_shape = sample.metainfo.get("img_shape", sample.metainfo["batch_input_shape"])[:2]
            ori_shape = sample.metainfo.get("ori_shape", img_shape)[:2]
            boxes = decode_boxes(image_deltas, anchors, self.box_stds, clamp_shrink=self.clamp_shrink)
            if self.clip_border:
                boxes = clip_boxes_to_image(boxes, tuple(img_shape))
            min_size = min_size_in_input(self.min_bbox_size, img_shape, ori_shape)
            boxes, box_scores, labels = multiclass_nms(
                boxes,
                image_scores,
                self.score_thr,
                self.nms_pre,
                self.nms_iou,
                self.max_per_img,
                level_sizes,
                min_size,
            )
            sample.pred_bboxes = rescale_boxes(boxes, img_shape, ori_shape)
            sample.pred_scores = box_scores
            sample.pred_labels = labels
        return data_samples
