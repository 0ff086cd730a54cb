"""Box operations: anchors, box coding and matching, as pure functions over tensors."""

from .anchors import SSDAnchorGenerator, mmdet_box_sizes, mmdet_ssd_anchors, tf_box_specs, tf_ssd_anchors
from .box_coder import decode_boxes, encode_boxes
from .matching import BACKGROUND, IGNORE, match_anchors

__all__ = [
    "BACKGROUND",
    "IGNORE",
    "SSDAnchorGenerator",
    "decode_boxes",
    "encode_boxes",
    "match_anchors",
    "mmdet_box_sizes",
    "mmdet_ssd_anchors",
    "tf_box_specs",
    "tf_ssd_anchors",
]
