"""Reusable building blocks: conv-norm-activation and the inverted residual."""

from .conv_norm_act import ConvNormAct
from .inverted_residual import InvertedResidual, make_divisible

__all__ = ["ConvNormAct", "InvertedResidual", "make_divisible"]
