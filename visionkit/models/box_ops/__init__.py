"""Box operations: anchors, box coding, matching and NMS, as pure functions over tensors."""

from .anchor_generators import (
    MMDetSSDAnchorGenerator,
    SSDAnchorGenerator,
    TFSSDAnchorGenerator,
    TorchvisionSSDAnchorGenerator,
)
from .anchors import (
    flatten_levels,
    mmdet_box_sizes,
    mmdet_ssd_anchors,
    tf_box_specs,
    tf_ssd_anchors,
    torchvision_box_sizes,
    torchvision_ssd_anchors,
)
from .box_coder import decode_boxes, encode_boxes
from .matching import BACKGROUND, IGNORE, match_anchors
from .nms import (
    min_size_in_input,
    multiclass_nms,
    multiclass_nms_mask,
    padded_multiclass_nms,
    rescale_boxes,
    top_candidates,
)

__all__ = [
    "BACKGROUND",
    "IGNORE",
    "MMDetSSDAnchorGenerator",
    "SSDAnchorGenerator",
    "TFSSDAnchorGenerator",
    "TorchvisionSSDAnchorGenerator",
    "decode_boxes",
    "encode_boxes",
    "flatten_levels",
    "match_anchors",
    "min_size_in_input",
    "mmdet_box_sizes",
    "mmdet_ssd_anchors",
    "multiclass_nms",
    "multiclass_nms_mask",
    "padded_multiclass_nms",
    "rescale_boxes",
    "tf_box_specs",
    "tf_ssd_anchors",
    "top_candidates",
    "torchvision_box_sizes",
    "torchvision_ssd_anchors",
]
