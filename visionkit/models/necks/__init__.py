"""Necks: layers between a backbone and its heads."""

from .ssdlite_extra_layers import SSDLiteExtraLayers

__all__ = ["SSDLiteExtraLayers"]
