"""TensorFlow's staircase exponential decay, with a period that may be a fraction of an epoch."""

from __future__ import annotations

from mmengine.optim.scheduler import StepLR
from mmengine.optim.scheduler.param_scheduler import INF

from ...registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class ExponentialDecayLR(StepLR):
    """``lr = base_lr * gamma ** floor(step / step_size)``, TF's ``exponential_decay(..., staircase=True)``.

    mmengine's ``StepLR`` with one difference: by epoch with ``convert_to_iter_based=True``, ``step_size`` may
    be fractional (TF-slim's MobileNetV2 run decays by 0.98 every 2.5 epochs) and becomes
    ``int(step_size * iterations per epoch)`` iterations, as TF-slim's
    ``int(num_samples / batch_size * num_epochs_per_decay)``. (``StepLR`` would keep a float period, which the
    iteration count never divides.) By iteration it is ``StepLR`` itself (the OD API's ``decay_steps``).
    """

    @classmethod
    def build_iter_from_epoch(
        cls,
        *args,
        step_size: float,
        begin: float = 0,
        end: float = INF,
        by_epoch: bool = True,
        epoch_length: int | None = None,
        **kwargs,
    ) -> ExponentialDecayLR:
        if not by_epoch:
            raise ValueError("ExponentialDecayLR: convert_to_iter_based needs by_epoch=True")
        if epoch_length is None or epoch_length <= 0:
            raise ValueError(
                f"ExponentialDecayLR: epoch_length must be a positive integer, got {epoch_length}"
            )
        steps = max(1, int(step_size * epoch_length))
        return cls(
            *args,
            step_size=steps,
            begin=int(begin * epoch_length),
            end=end if end == INF else int(end * epoch_length),
            by_epoch=False,
            **kwargs,
        )
