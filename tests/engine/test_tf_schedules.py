"""TF's staircase exponential decay (fractional epochs) and moving average (num_updates warm-up)."""

import pytest
import torch
from mmengine.registry import init_default_scope
from torch import nn

from visionkit.engine.optimizers import ExponentialDecayLR, TFExponentialMovingAverage, tf_ema_decay
from visionkit.registry import MODELS, PARAM_SCHEDULERS


def test_decay_every_two_and_a_half_epochs() -> None:
    """2.5 epochs of 10 iterations = 25 iterations per x0.98 (TF-slim's int(N / batch * epochs_per_decay));
    StepLR would keep 25.0 only by luck of the epoch length (2.5 x 9 = 22.5 never divides an iteration)."""
    init_default_scope("visionkit")
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.36)
    cls = PARAM_SCHEDULERS.get("ExponentialDecayLR")
    assert cls is ExponentialDecayLR
    scheduler = cls.build_iter_from_epoch(optimizer, step_size=2.5, gamma=0.98, by_epoch=True, epoch_length=9)
    assert scheduler.step_size == 22 and not scheduler.by_epoch
    lrs = []
    for _ in range(50):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[21] == pytest.approx(0.36) and lrs[22] == pytest.approx(0.36 * 0.98)
    assert lrs[43] == pytest.approx(0.36 * 0.98) and lrs[44] == pytest.approx(0.36 * 0.98**2)


def test_tf_ema_decay_warms_up_with_num_updates() -> None:
    """min(decay, (1 + n) / (10 + n)): 0.1 at n = 0, 0.5 at n = 8, capped at 0.9999 after 89,991 updates."""
    assert tf_ema_decay(0.9999, 0) == pytest.approx(0.1)
    assert tf_ema_decay(0.9999, 8) == pytest.approx(0.5)
    assert tf_ema_decay(0.9999, 10**6) == 0.9999
    assert tf_ema_decay(0.9999, None) == 0.9999


def test_moving_average_of_weights_and_batchnorm_statistics() -> None:
    """shadow = d * shadow + (1 - d) * w with TF's d; update_buffers averages BatchNorm's running mean too.
    The first update copies (update 0); then w = 1 with d(1) = 2/11: shadow = 2/11 * 0 + 9/11 * 1."""
    init_default_scope("visionkit")
    model = nn.Sequential(nn.Linear(1, 1, bias=False), nn.BatchNorm1d(1))
    nn.init.zeros_(model[0].weight)
    ema = MODELS.build(
        dict(type="TFExponentialMovingAverage", model=model, decay=0.9999, update_buffers=True)
    )
    assert isinstance(ema, TFExponentialMovingAverage)
    ema.update_parameters(model)
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[1].running_mean.fill_(2.0)
    ema.update_parameters(model)
    assert ema.module[0].weight.item() == pytest.approx(9 / 11)
    assert ema.module[1].running_mean.item() == pytest.approx(2 * 9 / 11)
    constant = TFExponentialMovingAverage(model, decay=0.9, use_num_updates=False)
    constant.update_parameters(model)
    with torch.no_grad():
        model[0].weight.fill_(2.0)
    constant.update_parameters(model)
    assert constant.module[0].weight.item() == pytest.approx(0.9 * 1 + 0.1 * 2)
    assert constant.module[1].running_mean.item() == 2.0  # buffers copied, not averaged
