"""Reusable building blocks: conv-norm-activation, squeeze-and-excitation and the inverted residual."""

from .activation import ACTIVATIONS, build_activation
from .conv_norm_act import ConvNormAct
from .inverted_residual import InvertedResidual, make_divisible
from .squeeze_excitation import SqueezeExcitation

__all__ = [
    "ACTIVATIONS",
    "ConvNormAct",
    "InvertedResidual",
    "SqueezeExcitation",
    "build_activation",
    "make_divisible",
]
