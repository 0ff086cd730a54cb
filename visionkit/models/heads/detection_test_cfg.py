"""A detection head's inference settings (``test_cfg``), in one place: score threshold, candidates, NMS and
the detections kept. Eager prediction, exported graphs and the runtimes all read them from here.

Defaults are TF's ``ssdlite_mobilenet_v2_coco`` (NMS IoU 0.6, 100 detections); mmdetection's SSDLite uses
``score_thr=0.02, nms_pre=1000, nms_pre_per_level=True, nms_iou=0.45, max_per_img=200, clip_border=True,
min_bbox_size=0``, torchvision's ``score_thr=0.001, topk_per_class=300, nms_iou=0.55, max_per_img=300,
clip_border=True``, TF's ``score_thr=1e-8, nms_pre=None, nms_iou=0.6, max_per_class=100, max_per_img=100,
clip_after_nms=True`` (docs/detection.md).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class DetectionTestCfg:
    """Args:
    score_thr: (anchor, class) pairs at or below it are dropped.
    nms_pre: at most this many (anchor, class) pairs, the best over all levels (per level with
        ``nms_pre_per_level``, as mmdetection), go into NMS; ``None``: every pair above ``score_thr`` (TF).
    nms_iou: per-class NMS IoU threshold.
    max_per_img: detections kept after NMS, highest score first.
    nms_pre_per_level: count ``nms_pre`` per feature level.
    topk_per_class: candidates are first the best this many anchors of each class above ``score_thr``
        (torchvision SSD's ``topk_candidates``); ``nms_pre`` applies after.
    clip_border: clip decoded boxes to the image (``img_shape``) before NMS (mmdetection's).
    min_bbox_size: drop candidates not wider and taller than this many original-image pixels before NMS
        (mmdetection's ``min_bbox_size=0`` drops empty boxes); ``None`` keeps all.
    max_per_class: detections kept per class after NMS, highest score first (TF's ``max_size_per_class``);
        ``None``: no limit.
    clip_after_nms: clip the boxes NMS kept to the image and drop those left without area, before
        ``max_per_img`` (TF's ``clip_window``; NMS itself sees the boxes unclipped).
    """

    score_thr: float = 0.01
    nms_pre: int | None = 1000
    nms_iou: float = 0.6
    max_per_img: int = 100
    nms_pre_per_level: bool = False
    topk_per_class: int | None = None
    clip_border: bool = False
    min_bbox_size: float | None = None
    max_per_class: int | None = None
    clip_after_nms: bool = False

    @classmethod
    def build(cls, cfg: DetectionTestCfg | dict[str, Any] | None) -> DetectionTestCfg:
        """From a config dict (missing keys take the defaults); unknown keys raise, naming the valid ones."""
        if isinstance(cfg, DetectionTestCfg):
            return cfg
        cfg = dict(cfg or {})
        valid = [field.name for field in fields(cls)]
        unknown = sorted(set(cfg) - set(valid))
        if unknown:
            raise ValueError(f"Unknown detection test_cfg keys {unknown}; valid: {', '.join(valid)}")
        if cfg.get("clip_border") and cfg.get("clip_after_nms"):
            raise ValueError(
                "test_cfg: clip_border (before NMS, mmdetection) or clip_after_nms (TF), not both"
            )
        return cls(**cfg)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able (what an exported graph's metadata carries)."""
        return asdict(self)
