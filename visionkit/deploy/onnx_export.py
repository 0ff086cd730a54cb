"""Export a task model to ONNX: one wrapper per task that takes raw pixels and returns fixed, named outputs.

Every graph takes ``images`` (N, 3, H, W) float32 pixel values 0..255 in the channel order the test pipeline
gives (RGB for ours); the data preprocessor's normalisation (channel swap, mean, std) is inside the graph.
The batch axis is dynamic in every graph; H and W are dynamic for segmentation (whose test pipeline keeps
each image's own size) and fixed for classification and detection (their pipelines resize to one size; the
anchors are constants of it, and a static size exports faster). Outputs:

- classification: ``scores`` (N, K) softmax probabilities.
- segmentation: ``logits`` (N, K, H, W) at the input size and ``labels`` (N, H, W) int64, their argmax.
- detection, raw: ``scores`` (N, A, K) softmax without the background and ``boxes`` (N, A, 4) decoded xyxy
  input pixels for each of the A anchors.
- detection with post-processing: ``boxes`` (N, D, 4) xyxy input pixels, ``scores`` (N, D), ``labels``
  (N, D) int64 and ``num_detections`` (N,) int64; D = min(``max_per_img``, candidates), rows past
  ``num_detections`` are zero (labels -1). Score threshold, top ``nms_pre``, per-class NMS and the ranking
  are the head's :meth:`predict` settings, as are mmdetection's variants (``nms_pre`` per level, boxes
  clipped to the input, empty boxes dropped; ``min_bbox_size`` above 0 is refused).

The file carries metadata ``visionkit`` (JSON: task, input size, padding, NMS settings, dataset meta) that
:class:`~visionkit.deploy.onnx_runtime_model.OnnxRuntimeModel` reads.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.box_ops import decode_boxes
from ..models.heads.ssdlite_head import flatten_levels
from ..models.tasks import ImageClassifier, Segmentor, SSDDetector
from .onnx_nms import ONNX_TRANSLATIONS, multiclass_nms_mask

METADATA_KEY = "visionkit"


class Normalize(nn.Module):
    """The data preprocessor's normalisation: raw pixels (N, 3, H, W) 0..255 -> network input."""

    def __init__(self, preprocessor: nn.Module) -> None:
        super().__init__()
        self.swap_channels = bool(getattr(preprocessor, "_channel_conversion", False))
        normalize = getattr(preprocessor, "_enable_normalize", False)
        self.register_buffer("mean", preprocessor.mean.clone() if normalize else torch.zeros(3, 1, 1))
        self.register_buffer("std", preprocessor.std.clone() if normalize else torch.ones(3, 1, 1))
        self.pad_value = float(getattr(preprocessor, "pad_value", 0))
        self.pad_size_divisor = int(getattr(preprocessor, "pad_size_divisor", 1))

    def forward(self, images: Tensor) -> Tensor:
        if self.swap_channels:
            images = images[:, [2, 1, 0]]
        return (images - self.mean) / self.std

    def pad_pixel(self) -> list[float]:
        """The raw pixel that normalises to the data preprocessor's padding value."""
        pixel = (self.mean + self.pad_value * self.std).flatten().tolist()
        return pixel[::-1] if self.swap_channels else pixel


class ClassifierExport(nn.Module):
    """images (N, 3, H, W) raw pixels at ``input_size`` -> ``scores`` (N, K) softmax."""

    output_names = ("scores",)

    def __init__(self, model: ImageClassifier, input_size: Sequence[int]) -> None:
        super().__init__()
        self.normalize, self.model = Normalize(model.data_preprocessor), model
        self.input_size = (int(input_size[0]), int(input_size[1]))

    def forward(self, images: Tensor) -> Tensor:
        return self.model.head(self.model.backbone(self.normalize(images))).softmax(dim=1)


class SegmentorExport(nn.Module):
    """images (N, 3, H, W) raw pixels -> ``logits`` (N, K, H, W), ``labels`` (N, H, W) int64.

    One whole-image pass: the segmentor's multi-scale, flip and sliding-window options are not in the graph.
    """

    output_names = ("logits", "labels")

    def __init__(self, model: Segmentor) -> None:
        super().__init__()
        cfg = model.test_cfg
        if cfg["mode"] != "whole" or tuple(cfg["scales"]) != (1.0,) or cfg["flip"]:
            raise ValueError(
                f"Only a single whole-image pass exports to ONNX, but the segmentor's test_cfg is {cfg}: "
                "set --cfg-options model.test_cfg.mode=whole model.test_cfg.scales=[1.0] "
                "model.test_cfg.flip=False"
            )
        self.normalize, self.model = Normalize(model.data_preprocessor), model

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        inputs = self.normalize(images)
        logits = self.model.decode_head(self.model.backbone(inputs))
        # resize_logits' bilinear resize, without its int(size), which would fix H and W in the graph.
        logits = F.interpolate(logits, size=inputs.shape[-2:], mode="bilinear", align_corners=False)
        return logits, logits.argmax(dim=1)


class DetectorExport(nn.Module):
    """images (N, 3, H, W) raw pixels at ``input_size`` -> ``scores`` (N, A, K), ``boxes`` (N, A, 4)."""

    output_names = ("scores", "boxes")

    def __init__(self, model: SSDDetector, input_size: Sequence[int]) -> None:
        super().__init__()
        self.normalize, self.model = Normalize(model.data_preprocessor), model
        self.input_size = (int(input_size[0]), int(input_size[1]))
        with torch.no_grad():
            cls_scores, _ = model.head(model.extract_feats(torch.zeros(1, 3, *self.input_size)))
        sizes = [tuple(score.shape[-2:]) for score in cls_scores]
        anchors, self.level_sizes = model.head.anchor_generator(self.input_size, sizes, torch.device("cpu"))
        self.register_buffer("anchors", anchors)
        if model.head.min_bbox_size:  # in original-image pixels, which the graph does not know
            raise ValueError(
                f"ONNX export supports head.min_bbox_size None or 0, got {model.head.min_bbox_size}"
            )

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        head = self.model.head
        cls_scores, bbox_preds = head(self.model.extract_feats(self.normalize(images)))
        scores = flatten_levels(cls_scores, head.num_classes + 1).softmax(dim=-1)[..., : head.num_classes]
        deltas = flatten_levels(bbox_preds, 4)
        boxes = decode_boxes(deltas, self.anchors, head.box_stds, clamp_shrink=head.clamp_shrink)
        if head.clip_border:  # the image fills the fixed input: clipping to it is clipping to img_shape
            height, width = self.input_size
            boxes = torch.minimum(boxes.clamp(min=0), boxes.new_tensor([width, height, width, height]))
        return scores, boxes


class DetectorNMSExport(DetectorExport):
    """images (N, 3, H, W) raw pixels at ``input_size`` -> ``boxes`` (N, D, 4), ``scores`` (N, D),
    ``labels`` (N, D) int64, ``num_detections`` (N,) int64, as :func:`multiclass_nms` per image."""

    output_names = ("boxes", "scores", "labels", "num_detections")

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        head = self.model.head
        scores, boxes = super().forward(images)
        num_anchors, num_classes = scores.shape[1:]
        # Top nms_pre (anchor, class) pairs before NMS (per level with nms_pre_per_level), as multiclass_nms;
        # pairs at or below score_thr among them cannot suppress anything above it, so filtering inside the
        # NMS op gives the same result.
        level_sizes = self.level_sizes if head.nms_pre_per_level else [num_anchors]
        top_scores, pairs, start = [], [], 0
        for size in level_sizes:
            level = scores[:, start : start + size].flatten(1)
            level_top, level_pairs = level.topk(min(head.nms_pre, size * num_classes), dim=1)
            top_scores.append(level_top)
            pairs.append(level_pairs + start * num_classes)
            start += size
        top_scores, pairs = torch.cat(top_scores, dim=1), torch.cat(pairs, dim=1)
        anchor_index, labels = pairs // num_classes, pairs % num_classes
        top_boxes = boxes.gather(1, anchor_index.unsqueeze(-1).expand(-1, -1, 4))
        if head.min_bbox_size is not None:  # 0: empty boxes drop out as scores the NMS op filters
            sizes = top_boxes[..., 2:] - top_boxes[..., :2]
            top_scores = top_scores * (sizes > 0).all(dim=-1)
        keep = multiclass_nms_mask(top_boxes, top_scores, labels, num_classes, head.nms_iou, head.score_thr)
        kept_scores = torch.where(keep, top_scores, torch.full_like(top_scores, -1.0))
        out_scores, order = kept_scores.topk(min(head.max_per_img, kept_scores.shape[1]), dim=1)
        valid = out_scores >= 0
        out_boxes = top_boxes.gather(1, order.unsqueeze(-1).expand(-1, -1, 4)) * valid.unsqueeze(-1)
        out_labels = torch.where(valid, labels.gather(1, order), torch.full_like(order, -1))
        return out_boxes, out_scores * valid, out_labels, valid.sum(dim=1)


def export_module(model: nn.Module, input_size: Sequence[int], postprocess: bool = True) -> nn.Module:
    """The export wrapper for ``model``'s task, in eval mode, for inputs of ``input_size`` (H, W)."""
    if isinstance(model, ImageClassifier):
        wrapper: nn.Module = ClassifierExport(model, input_size)
    elif isinstance(model, Segmentor):
        wrapper = SegmentorExport(model)
    elif isinstance(model, SSDDetector):
        wrapper = DetectorNMSExport(model, input_size) if postprocess else DetectorExport(model, input_size)
    else:
        raise TypeError(
            f"No ONNX export for {type(model).__name__}: ImageClassifier, Segmentor and SSDDetector export"
        )
    return wrapper.eval()


def export_metadata(wrapper: nn.Module, dataset_meta: dict | None = None) -> dict[str, Any]:
    """What :class:`OnnxRuntimeModel` needs beside the graph to turn its outputs into predictions."""
    task = {ClassifierExport: "classification", SegmentorExport: "segmentation"}.get(
        type(wrapper), "detection"
    )
    meta: dict[str, Any] = {
        "task": task,
        "outputs": list(wrapper.output_names),
        "input_size": None if task == "segmentation" else list(wrapper.input_size),
        "pad_pixel": wrapper.normalize.pad_pixel(),
        "pad_size_divisor": wrapper.normalize.pad_size_divisor,
        "dataset_meta": dataset_meta or {},
    }
    if task == "detection":
        head = wrapper.model.head
        meta["nms"] = dict(
            score_thr=head.score_thr,
            nms_pre=head.nms_pre,
            iou_thr=head.nms_iou,
            max_per_img=head.max_per_img,
            level_sizes=list(wrapper.level_sizes) if head.nms_pre_per_level else None,
            min_bbox_size=head.min_bbox_size,
        )
    return meta


def export_onnx(
    model: nn.Module,
    path: str | Path,
    input_size: Sequence[int],
    postprocess: bool = True,
    opset: int | None = None,
) -> nn.Module:
    """Write ``model`` (a built task model) as ONNX to ``path``; returns the wrapper that was exported.

    The graph is traced at batch 2 and ``input_size`` (H, W) with torch.onnx's ``torch.export``-based
    exporter; the batch axis (and for segmentation H and W) stay dynamic.
    """
    wrapper = export_module(model, input_size, postprocess)
    example = torch.randint(0, 256, (2, 3, *input_size)).float()
    dynamic_axes = (0, 2, 3) if isinstance(wrapper, SegmentorExport) else (0,)
    names = {0: "batch", 2: "height", 3: "width"}
    program = torch.onnx.export(
        wrapper,
        (example,),
        dynamo=True,
        input_names=["images"],
        output_names=list(wrapper.output_names),
        dynamic_shapes={"images": {axis: torch.export.Dim(names[axis]) for axis in dynamic_axes}},
        opset_version=opset,
        custom_translation_table=ONNX_TRANSLATIONS,
        verbose=False,
    )
    # The exporter may fall back to a strategy that fixes a dynamic axis (e.g. after a len(tensor)).
    shape = program.model.graph.inputs[0].shape
    fixed = [names[axis] for axis in dynamic_axes if isinstance(shape[axis], int)]
    if fixed:
        raise RuntimeError(
            f"The ONNX exporter fixed the {fixed} axes of the input of {type(model).__name__}: the model "
            "reads a size as a Python int somewhere (len(), int(), a comparison); see docs/deployment.md"
        )
    metadata = export_metadata(wrapper, getattr(model, "dataset_meta", None))
    program.model.metadata_props[METADATA_KEY] = json.dumps(metadata, default=list)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    program.save(str(path))
    return wrapper
