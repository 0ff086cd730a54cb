"""RMSProp with TensorFlow's semantics, the optimizer of the MobileNetV2 paper's ImageNet and COCO runs.

``tf.train.RMSPropOptimizer`` (which TF-slim's ``train_image_classifier.py`` and the TF object detection
API build) differs from ``torch.optim.RMSprop`` in three ways that change the step size, not just its
rounding:

- the mean square starts at **1**, not 0;
- epsilon is added **inside** the square root: ``sqrt(ms + eps)``, not ``sqrt(ms) + eps``;
- the learning rate is applied **inside** the momentum buffer: ``mom = m * mom + lr * g / sqrt(ms + eps)``,
  ``w -= mom`` (so a change of lr takes effect gradually, as in TF).

With TF-slim's ``opt_epsilon=1.0`` and typical gradients (``g^2`` far below 1) the denominator stays near 1
and the update is SGD with momentum at learning rate ``lr``; PyTorch's RMSprop at ``eps=1.0`` or near 0
takes steps up to ``1 / sqrt(1 - alpha)`` (3.2x at alpha 0.9) to ~30x larger early on. timm's
``RMSpropTF`` implements the same update (``lr_in_momentum=True``, coupled weight decay).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch.optim import Optimizer

from ...registry import OPTIMIZERS


@OPTIMIZERS.register_module()
class RMSpropTF(Optimizer):
    """TensorFlow's RMSProp (see the module docstring). Per step, for each parameter ``w``::

        g   = grad + weight_decay * w                 (L2 regularisation added to the loss, as TF-slim)
        ms  = alpha * ms + (1 - alpha) * g^2          (ms starts at 1)
        mom = momentum * mom + lr * g / sqrt(ms + eps)
        w   = w - mom

    Args:
        params: parameters or parameter groups (mmengine's ``paramwise_cfg`` gives per-group decay).
        lr: learning rate (TF: ``learning_rate``).
        alpha: decay of the mean square (TF: ``decay``, TF-slim ``--rmsprop_decay`` 0.9).
        eps: added inside the square root (TF-slim ``--opt_epsilon`` 1.0, OD API ``epsilon`` 1.0).
        momentum: TF ``momentum`` (TF-slim ``--rmsprop_momentum`` 0.9).
        weight_decay: L2 coefficient folded into the gradient (TF-slim's ``l2_regularizer(wd)`` adds
            ``wd * sum(w^2) / 2`` to the loss, whose gradient is ``wd * w``).
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 0.01,
        alpha: float = 0.9,
        eps: float = 1.0,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        for name, value in (("lr", lr), ("eps", eps), ("momentum", momentum), ("weight_decay", weight_decay)):
            if value < 0:
                raise ValueError(f"RMSpropTF needs {name} >= 0, got {value}")
        if not 0.0 <= alpha < 1.0:
            raise ValueError(f"RMSpropTF needs 0 <= alpha < 1, got {alpha}")
        defaults = dict(lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError("RMSpropTF does not support sparse gradients")
                self._update(param, group)
        return loss

    def _update(self, param: torch.Tensor, group: dict) -> None:
        state = self.state[param]
        if not state:
            state["square_avg"] = torch.ones_like(param, memory_format=torch.preserve_format)
            state["momentum_buffer"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        grad = param.grad
        if group["weight_decay"]:
            grad = grad.add(param, alpha=group["weight_decay"])
        square_avg = state["square_avg"]
        # TF's order: ms += (1 - alpha) * (g^2 - ms), the same value as alpha * ms + (1 - alpha) * g^2.
        square_avg.add_(grad * grad - square_avg, alpha=1.0 - group["alpha"])
        denom = square_avg.add(group["eps"]).sqrt_()
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(grad, denom, value=group["lr"])
            param.sub_(buf)
        else:
            param.addcdiv_(grad, denom, value=-group["lr"])
