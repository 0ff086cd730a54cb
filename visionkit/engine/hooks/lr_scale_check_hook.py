"""A warning at the start of training when the total batch differs from the one the config's lr is for."""

from __future__ import annotations

from typing import Any

from mmengine.dist import get_world_size
from mmengine.hooks import Hook

from ...registry import HOOKS


def lr_scale_warning(
    processes: int, batch_size: int, base_batch_size: int | None, scaling: bool, lr: float | None = None
) -> str | None:
    """The warning for a total batch of ``processes x batch_size`` images per step against a config whose
    learning rate is meant for ``base_batch_size`` (``auto_scale_lr.base_batch_size``), or None when they
    agree, when linear scaling is on (``scaling``) or when the config names no base batch.
    """
    total = processes * batch_size
    if base_batch_size is None or scaling or total == base_batch_size:
        return None
    ratio = base_batch_size / total
    per_image = f"{ratio:.3g}x the per-image learning rate the recipe was tuned for"
    lr_text = f" (lr {lr:g})" if lr is not None else ""
    per_process = base_batch_size / processes
    fit = (
        f"or set train_dataloader.batch_size={int(per_process)} to train at the recipe's total batch"
        if per_process.is_integer()
        else "or change train_dataloader.batch_size"
    )
    return (
        f"Training with {processes} process(es) x {batch_size} images = {total} images per step, but the "
        f"config's learning rate{lr_text} is for a total batch of {base_batch_size} "
        f"(auto_scale_lr.base_batch_size) and lr scaling is off: each image gets {per_image}. Pass "
        f"--auto-scale-lr (auto_scale_lr.enable=True) to scale the lr linearly to {total}, {fit}."
    )


@HOOKS.register_module()
class LrScaleCheckHook(Hook):
    """Logs :func:`lr_scale_warning` once before the first iteration (and does nothing when it is None)."""

    priority = "VERY_LOW"

    def before_train(self, runner: Any) -> None:
        loader = runner.train_dataloader
        batch_size = getattr(loader, "batch_size", None)
        if batch_size is None:  # a batch sampler sets the batch (the multi-task sampler)
            batch_size = getattr(getattr(loader, "batch_sampler", None), "batch_size", None)
        auto_scale = runner.cfg.get("auto_scale_lr") or {}
        if batch_size is None:
            return
        message = lr_scale_warning(
            get_world_size(),
            int(batch_size),
            auto_scale.get("base_batch_size"),
            bool(auto_scale.get("enable", False)),
            _first_lr(runner.cfg),
        )
        if message is not None:
            runner.logger.warning(message)


def _first_lr(cfg: Any) -> float | None:
    optimizer = (cfg.get("optim_wrapper") or {}).get("optimizer") or {}
    lr = optimizer.get("lr")
    return float(lr) if isinstance(lr, int | float) else None
