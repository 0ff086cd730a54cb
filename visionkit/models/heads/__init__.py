from .aspp_head import ASPPHead
from .classifier_head import ClassifierHead
from .fcn_head import FCNHead
from .lraspp_head import LRASPPHead
from .seg_head import SegHead
from .ssdlite_head import SSDLiteHead

__all__ = ["ASPPHead", "ClassifierHead", "FCNHead", "LRASPPHead", "SSDLiteHead", "SegHead"]
