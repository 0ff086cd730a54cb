"""Optimisation parts with TensorFlow's semantics, for the recipes that reached the papers' numbers:
RMSProp, staircase exponential decay, and the moving average of the weights (see docs/recipes.md)."""

from .exponential_decay_lr import ExponentialDecayLR
from .rmsprop_tf import RMSpropTF
from .tf_moving_average import TFExponentialMovingAverage, tf_ema_decay

__all__ = ["ExponentialDecayLR", "RMSpropTF", "TFExponentialMovingAverage", "tf_ema_decay"]
