"""Training switches of tools/train.py applied to a config: LR scaling, EMA, mixed precision, seeding.

Each is also a plain config setting (``auto_scale_lr``, ``custom_hooks``, ``optim_wrapper``,
``randomness``), so a config can turn it on without the flag; these functions only fill it in.
"""

from __future__ import annotations

from mmengine.config import Config

from .amp import amp_optim_wrapper

EMA_HOOK = "EMAHook"


def enable_auto_scale_lr(cfg: Config) -> None:
    """Scale the learning rate by (processes x batch per process) / ``auto_scale_lr.base_batch_size``.

    mmengine's Runner does the scaling (linear rule, as in Goyal et al. 2017) when ``enable`` is set.
    """
    base = (cfg.get("auto_scale_lr") or {}).get("base_batch_size")
    if base is None:
        raise ValueError(
            "--auto-scale-lr needs auto_scale_lr.base_batch_size in the config (the total batch its lr is "
            "meant for): add auto_scale_lr = dict(base_batch_size=N, enable=False)"
        )
    cfg.auto_scale_lr = dict(cfg.auto_scale_lr, enable=True)


def enable_ema(cfg: Config, momentum: float = 0.0002) -> None:
    """Add mmengine's ``EMAHook`` (exponential moving average of the weights; validation and checkpoints'
    ``ema_state_dict`` use the averaged weights) unless ``custom_hooks`` has one already.

    ``momentum`` is the weight of the new value per iteration (mmdetection's YOLOX/RTMDet use 0.0002).
    """
    hooks = list(cfg.get("custom_hooks") or [])
    if not any(hook.get("type") == EMA_HOOK for hook in hooks):
        hooks.append(dict(type=EMA_HOOK, ema_type="ExponentialMovingAverage", momentum=momentum, priority=49))
    cfg.custom_hooks = hooks


def enable_amp(cfg: Config, dtype: str | None = None) -> None:
    """Mixed precision for this machine (see :func:`~visionkit.engine.amp.amp_optim_wrapper`)."""
    cfg.optim_wrapper = amp_optim_wrapper(cfg.optim_wrapper, dtype)


def set_randomness(cfg: Config, seed: int | None, deterministic: bool) -> None:
    """``randomness``: ``seed`` (also for dataloader workers and every process, mmengine adds the rank
    only with ``diff_rank_seed``) and ``deterministic`` (cuDNN deterministic, no benchmark)."""
    randomness = dict(cfg.get("randomness") or {})
    if seed is not None:
        randomness["seed"] = seed
    if deterministic:
        randomness["deterministic"] = True
    cfg.randomness = randomness
