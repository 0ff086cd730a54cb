"""TensorFlow's exponential moving average of the weights, with its ``num_updates`` warm-up."""

from __future__ import annotations

import torch
from mmengine.model import BaseAveragedModel
from torch import Tensor, nn

from ...registry import MODELS


def tf_ema_decay(decay: float, num_updates: int | None) -> float:
    """The decay ``tf.train.ExponentialMovingAverage(decay, num_updates)`` applies at an update:
    ``min(decay, (1 + num_updates) / (10 + num_updates))``, or ``decay`` without ``num_updates``."""
    if num_updates is None:
        return decay
    return min(decay, (1.0 + num_updates) / (10.0 + num_updates))


@MODELS.register_module()
class TFExponentialMovingAverage(BaseAveragedModel):
    """``shadow = d * shadow + (1 - d) * weight`` after every step, with TF's decay ``d``.

    TF-slim's ``train_image_classifier.py`` builds ``tf.train.ExponentialMovingAverage(
    moving_average_decay, global_step)`` over ``slim.get_model_variables()`` (BatchNorm's moving mean and
    variance included): with ``num_updates`` the decay starts near 0.1 and reaches ``decay`` after about
    ``10 / (1 - decay)`` steps, so the average does not drag the random initialisation along for the first
    ~90k steps at 0.9999. Set ``use_num_updates=False`` for the OD API's ``MovingAverageOptimizer``
    (constant decay, trainable variables only: ``update_buffers=False``).

    Use it through mmengine's ``EMAHook``::

        custom_hooks = [dict(type="EMAHook", ema_type="TFExponentialMovingAverage", decay=0.9999,
                             update_buffers=True, priority=49)]

    Args:
        model: the model to average.
        decay: TF's ``decay`` (mmengine's ``momentum`` is ``1 - decay``).
        use_num_updates: pass the update count as TF's ``num_updates``.
        interval, device, update_buffers: as mmengine's ``BaseAveragedModel``.
    """

    def __init__(
        self,
        model: nn.Module,
        decay: float = 0.9999,
        use_num_updates: bool = True,
        interval: int = 1,
        device: torch.device | None = None,
        update_buffers: bool = False,
    ) -> None:
        super().__init__(model, interval, device, update_buffers)
        if not 0.0 < decay < 1.0:
            raise ValueError(f"TFExponentialMovingAverage needs 0 < decay < 1, got {decay}")
        self.decay, self.use_num_updates = decay, use_num_updates

    def avg_func(self, averaged_param: Tensor, source_param: Tensor, steps: int) -> None:
        """``steps`` counts the updates before this one (the first, a copy, was update 0)."""
        decay = tf_ema_decay(self.decay, steps if self.use_num_updates else None)
        averaged_param.lerp_(source_param, 1.0 - decay)
