"""Stop (or skip the step) when training turns non-finite, before a NaN reaches a checkpoint."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict

from ...registry import HOOKS


class NonFiniteError(RuntimeError):
    """Training produced a NaN or infinite loss, gradient or weight."""


def non_finite_names(named: Iterable[tuple[str, Any]]) -> list[str]:
    """Names whose value (a number or tensor) holds a NaN or an infinity."""
    bad = []
    for name, value in named:
        if isinstance(value, torch.Tensor):
            finite = bool(torch.isfinite(value).all()) if value.is_floating_point() else True
        else:
            finite = not isinstance(value, float) or math.isfinite(value)
        if not finite:
            bad.append(name)
    return bad


@HOOKS.register_module()
class NonFiniteCheckHook(Hook):
    """After every training iteration, check each loss term; optionally check gradients before the step.

    Args:
        on_non_finite: ``'raise'`` stops training with :class:`NonFiniteError` naming the epoch,
            iteration and the non-finite terms (``tools/train.py`` exits 1 with that message). ``'skip'``
            drops the step instead (no weight update, gradients zeroed), logs a warning each time, and
            still raises after ``max_skips`` consecutive skipped steps, or when a non-finite loss came
            with finite gradients (the step was taken; under AMP, whose scaler owns the gradients).
        check_grads: also check the gradients before every optimizer step (one extra pass over the
            parameters); with ``'raise'`` the weights then never see a non-finite update. ``'skip'``
            always checks them. Under AMP (``AmpOptimWrapper``) the loss scaler already skips inf/NaN
            gradient steps, so gradients are left to it.
    """

    priority = "ABOVE_NORMAL"  # before LoggerHook and CheckpointHook see the iteration

    def __init__(self, on_non_finite: str = "raise", check_grads: bool = False, max_skips: int = 10) -> None:
        if on_non_finite not in ("raise", "skip"):
            raise ValueError(f"on_non_finite must be 'raise' or 'skip', got '{on_non_finite}'")
        self.on_non_finite, self.max_skips = on_non_finite, max_skips
        self.check_grads = check_grads or on_non_finite == "skip"
        self.skipped_in_a_row, self.skipped_total, self.step_skipped = 0, 0, False

    def before_train(self, runner) -> None:
        wrapper = runner.optim_wrapper
        if not self.check_grads or isinstance(wrapper, AmpOptimWrapper):
            return
        if not isinstance(wrapper, OptimWrapper) or isinstance(wrapper, OptimWrapperDict):
            message = f"NonFiniteCheckHook cannot check gradients of a {type(wrapper).__name__}"
            print_log(message, logger="current", level=30)
            return
        step = wrapper.step

        def guarded_step(**kwargs: Any) -> None:  # wraps this wrapper's step only: no new wrapper type
            named = (
                (f"param group {g} #{i}", p.grad)
                for g, group in enumerate(wrapper.optimizer.param_groups)
                for i, p in enumerate(group["params"])
                if p.grad is not None
            )
            bad = non_finite_names(named)
            if not bad:
                self.skipped_in_a_row = 0
                step(**kwargs)
                return
            self.step_skipped = True
            wrapper.zero_grad()
            self._handle(runner, f"{len(bad)} non-finite gradient(s), first of {bad[0]}")

        wrapper.step = guarded_step

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        self.step_skipped = False

    def after_train_iter(self, runner, batch_idx: int, data_batch: Any = None, outputs: Any = None) -> None:
        bad = non_finite_names((outputs or {}).items())
        if bad and not self.step_skipped:
            values = ", ".join(f"{k}={float(torch.as_tensor(outputs[k]).detach()):g}" for k in bad)
            # the step was taken (its gradients were not checked, or were finite): nothing left to skip
            self._handle(runner, f"non-finite loss terms {values}", batch_idx, stop=True)

    def _handle(self, runner, what: str, batch_idx: int | None = None, stop: bool = False) -> None:
        where = f"epoch {runner.epoch + 1}, iteration {runner.iter + 1}"
        if batch_idx is not None:
            where += f" (batch {batch_idx + 1} of the epoch)"
        if self.on_non_finite == "raise" or stop:
            raise NonFiniteError(
                f"Training diverged at {where}: {what}. No checkpoint is written from this state; "
                "lower the learning rate (optim_wrapper.optimizer.lr), clip gradients "
                "(optim_wrapper.clip_grad=dict(max_norm=...)) or skip bad steps "
                "(default_hooks.non_finite.on_non_finite='skip'), then --resume from the last checkpoint"
            )
        self.skipped_in_a_row += 1
        self.skipped_total += 1
        print_log(
            f"Skipped the optimizer step at {where}: {what} ({self.skipped_total} skipped so far)",
            logger="current",
            level=30,
        )
        if self.skipped_in_a_row > self.max_skips:
            raise NonFiniteError(
                f"Training diverged: {self.skipped_in_a_row} optimizer steps in a row skipped, "
                f"the last at {where}"
            )
