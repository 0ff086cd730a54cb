"""Small data sets of coloured shapes over real photos, written in real on-disk formats.

Used by tests and the quick start: ImageNet-style classification, COCO detection and VOC segmentation.
"""

from .classification import make_classification_set
from .coco import make_coco_detection_set
from .shapes import TOY_CLASSES
from .voc import make_voc_segmentation_set

__all__ = ["TOY_CLASSES", "make_classification_set", "make_coco_detection_set", "make_voc_segmentation_set"]
