from .classifier_head import ClassifierHead
from .ssdlite_head import SSDLiteHead

__all__ = ["ClassifierHead", "SSDLiteHead"]
