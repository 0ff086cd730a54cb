"""SSD-style single-shot detector task model: backbone taps + extra layers -> SSDLite head."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ...registry import MODELS, TASK_UTILS
from ...structures import DataSample
from ..backbones import backbone_taps, build_tapped_backbone, head_taps
from ..box_ops import padded_multiclass_nms
from ..converters.mmdet_ssd import convert_mmdet_ssd_keys
from ..converters.tf_od_ssdlite import convert_tf_ssdlite_keys
from ..converters.torchvision_ssdlite import convert_torchvision_ssdlite_keys
from ..heads.ssdlite_head import detections_to_samples
from .task_model import ExportHead, TaskModel


def head_feats(taps: dict[str, Tensor], in_taps: Sequence[str], neck: nn.Module) -> list[Tensor]:
    """Backbone taps (a dict, may hold more) -> the head's maps: ``in_taps`` in order, then the outputs of
    ``neck`` run on the last of them."""
    feats = [taps[name] for name in in_taps]
    return feats + neck(feats[-1])


class DetectorExportHead(ExportHead):
    """taps -> per-anchor ``scores`` (N, A, K) and ``boxes`` (N, A, 4) xyxy input pixels, or with
    ``postprocess`` :func:`padded_multiclass_nms`'s ``boxes``, ``scores``, ``labels``, ``num_detections``.

    The anchors are constants of ``input_size``: the graph takes that size only.
    """

    def __init__(self, detector: SSDDetector, input_size: Sequence[int], postprocess: bool) -> None:
        super().__init__()
        self.neck, self.head, self.in_taps, self.postprocess = (
            detector.neck,
            detector.head,
            detector.in_taps,
            postprocess,
        )
        self.input_size = (int(input_size[0]), int(input_size[1]))
        self.output_names = (
            ("boxes", "scores", "labels", "num_detections") if postprocess else ("scores", "boxes")
        )
        # Feature sizes from the static tap table: every stride-2 layer maps a side s to ceil(s / 2).
        taps = {
            name: torch.zeros(1, tap.channels, *(math.ceil(side / tap.stride) for side in self.input_size))
            for name, tap in detector.tap_table.items()
        }
        with torch.no_grad():
            cls_scores, _ = self.head(self.feats(taps))
        sizes = [tuple(score.shape[-2:]) for score in cls_scores]
        generator = detector.head.anchor_generator
        anchors, self.level_sizes = generator(self.input_size, sizes, torch.device("cpu"))
        self.register_buffer("anchors", anchors)
        cfg = self.head.test_cfg
        if cfg.min_bbox_size:  # in original-image pixels, which the graph does not know
            raise ValueError(
                f"Export supports head.test_cfg.min_bbox_size None or 0, got {cfg.min_bbox_size}"
            )
        if cfg.nms_pre_per_level and not postprocess:
            raise ValueError("A head with test_cfg.nms_pre_per_level exports with post-processing only")

    def feats(self, taps: dict[str, Tensor]) -> list[Tensor]:
        return head_feats(taps, self.in_taps, self.neck)

    def forward(self, taps: dict[str, Tensor], inputs: Tensor) -> tuple[Tensor, ...]:
        scores, boxes = self.head.decode(*self.head(self.feats(taps)), self.anchors)
        if not self.postprocess:
            return scores, boxes
        cfg = self.head.test_cfg
        if cfg.clip_border:  # the image fills the fixed input: clipping to it is clipping to img_shape
            height, width = self.input_size
            boxes = torch.minimum(boxes.clamp(min=0), boxes.new_tensor([width, height, width, height]))
        return padded_multiclass_nms(
            boxes,
            scores,
            cfg.score_thr,
            cfg.nms_pre,
            cfg.nms_iou,
            cfg.max_per_img,
            self.level_sizes if cfg.nms_pre_per_level else None,
            drop_empty=cfg.min_bbox_size is not None,
            topk_per_class=cfg.topk_per_class,
            max_per_class=cfg.max_per_class,
            clip_to=self.input_size if cfg.clip_after_nms else None,
        )


@MODELS.register_module()
class SSDDetector(TaskModel):
    """Wires backbone, neck and head; holds no head logic (MobileNetV2 paper section 6.2).

    The head reads the backbone taps ``head.in_taps`` (its default ``layer15_expansion``, ``final``) in order,
    then each output of the neck, which runs on the last of them. The channel counts the neck and head
    need (``neck.in_channels``, ``head.in_channels``) come from the backbone's tap table and
    ``neck.out_channels``; the anchor generator is built here and handed to the head, which sizes its
    outputs from it.

    ``forward(inputs, data_samples, mode)``: ``'tensor'`` -> (class scores, box deltas), per-level lists;
    ``'loss'`` -> ``dict(loss_cls, loss_bbox)``; ``'predict'`` -> the samples with ``pred_bboxes``,
    ``pred_scores``, ``pred_labels`` (see :class:`DataSample` and :class:`TaskModel`).
    ``build_backbone=False`` builds neck and head alone, for a :class:`MultiTaskModel`.
    """

    kind = "detection"

    def __init__(
        self,
        backbone: dict,
        neck: dict,
        head: dict,
        anchor_generator: dict,
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
        build_backbone: bool = True,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        head = dict(head)
        self.in_taps = head_taps(head)
        self.tap_table = backbone_taps(backbone, self.in_taps)
        neck = dict(neck)
        neck.setdefault("in_channels", self.tap_table[self.in_taps[-1]].channels)
        self.neck = MODELS.build(neck)
        head.setdefault(
            "in_channels", [tap.channels for tap in self.tap_table.values()] + list(self.neck.out_channels)
        )
        head["anchor_generator"] = TASK_UTILS.build(anchor_generator)
        self.head = MODELS.build(head)
        self.backbone = build_tapped_backbone(backbone, self.in_taps) if build_backbone else None
        # mmdetection's, torchvision's and TF object detection's checkpoints load as-is
        self._register_load_state_dict_pre_hook(convert_mmdet_ssd_keys)
        self._register_load_state_dict_pre_hook(convert_torchvision_ssdlite_keys)
        self._register_load_state_dict_pre_hook(convert_tf_ssdlite_keys)

    def feats_from_taps(self, taps: dict[str, Tensor]) -> list[Tensor]:
        """Backbone taps (a dict, may hold more) -> the head's maps: ``in_taps`` in order, then the neck's."""
        return head_feats(taps, self.in_taps, self.neck)

    def forward_taps(
        self, taps: dict[str, Tensor], data_samples: list[DataSample], mode: str
    ) -> tuple[list[Tensor], list[Tensor]] | dict[str, Tensor] | list[DataSample]:
        """``forward`` from computed backbone taps; the samples already carry ``batch_input_shape``.

        Lets a :class:`MultiTaskModel` run this detector's neck and head on a shared backbone.
        """
        if mode == "loss" and self.training and len(data_samples) < 2:
            raise ValueError(
                f"SSDDetector cannot train on a batch of {len(data_samples)} image: BatchNorm in the extra "
                "layers sees a single value per channel on the 1x1 map. Raise train_dataloader.batch_size "
                "to 2 or more, and set train_dataloader.drop_last=True so no epoch ends on a batch of one"
            )
        feats = self.feats_from_taps(taps)
        if mode == "tensor":
            return self.head(feats)
        if mode == "loss":
            return self.head.loss(feats, data_samples)
        if mode == "predict":
            return self.head.predict(feats, data_samples)
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got '{mode}'")

    def export_head(self, input_size: Sequence[int] | None, postprocess: bool = True) -> DetectorExportHead:
        """Scores and boxes (``postprocess``: after NMS) for a graph fixed to ``input_size`` (H, W)."""
        if input_size is None:
            raise ValueError("A detector exports at one input size (its anchors are constants of it)")
        return DetectorExportHead(self, input_size, postprocess)

    def postprocess_settings(self) -> dict[str, Any]:
        return self.head.test_cfg.to_dict()

    @classmethod
    def outputs_to_samples(
        cls, outputs: dict[str, Tensor], data_samples: Sequence[DataSample], settings: dict[str, Any]
    ) -> Sequence[DataSample]:
        """Raw or NMS-ed outputs -> detections at the original size (:func:`detections_to_samples`)."""
        return detections_to_samples(outputs, data_samples, settings)
