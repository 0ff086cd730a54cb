"""RMSpropTF takes TensorFlow's RMSProp steps (tf.train.RMSPropOptimizer), checked by hand."""

import math

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from torch import nn

from visionkit.engine.optimizers import RMSpropTF


def steps(optimizer_cls, grads, lr=0.1, **kwargs) -> list[float]:
    """The parameter after each step, starting at 1.0, with the given gradients."""
    w = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    optimizer = optimizer_cls([w], lr=lr, **kwargs)
    values = []
    for g in grads:
        w.grad = torch.tensor([g], dtype=torch.float64)
        optimizer.step()
        values.append(w.item())
    return values


def test_two_steps_by_hand() -> None:
    """TF's update (ms starts at 1, eps inside the root, lr inside the momentum), lr 0.1, decay 0.9,
    momentum 0.9, eps 1.0, gradients 2 then -1:
      step 1: ms = 0.9 * 1 + 0.1 * 4 = 1.3;  mom = 0.1 * 2 / sqrt(2.3) = 0.131876;  w = 0.868124
      step 2: ms = 0.9 * 1.3 + 0.1 * 1 = 1.27;  mom = 0.9 * 0.131876 - 0.1 / sqrt(2.27) = 0.052317;
              w = 0.815807"""
    mom1 = 0.1 * 2 / math.sqrt(2.3)
    mom2 = 0.9 * mom1 - 0.1 / math.sqrt(2.27)
    actual = steps(RMSpropTF, [2.0, -1.0], lr=0.1, alpha=0.9, momentum=0.9, eps=1.0)
    assert actual == pytest.approx([1 - mom1, 1 - mom1 - mom2], abs=1e-12)
    assert actual == pytest.approx([0.868124, 0.815807], abs=1e-6)


def test_defaults_are_tfs_decay_and_epsilon_without_momentum() -> None:
    """Decay 0.9 and momentum 0 as tf.train.RMSPropOptimizer's defaults; epsilon 1.0 as TF-slim's
    `--opt_epsilon` and the OD API pass it (TF's own default is 1e-10): one step of g = 2 at lr 0.1
    takes 0.1 * 2 / sqrt(0.9 * 1 + 0.1 * 4 + 1.0)."""
    assert steps(RMSpropTF, [2.0], lr=0.1) == pytest.approx([1 - 0.2 / math.sqrt(2.3)], abs=1e-12)


def test_weight_decay_is_added_to_the_gradient() -> None:
    """TF-slim's l2_regularizer(wd) adds wd * w to the gradient: wd 0.5 at w = 1 turns g = 2 into 2.5."""
    mom = 0.1 * 2.5 / math.sqrt(0.9 + 0.1 * 2.5**2 + 1.0)
    assert steps(RMSpropTF, [2.0], alpha=0.9, momentum=0.9, eps=1.0, weight_decay=0.5) == pytest.approx(
        [1 - mom], abs=1e-12
    )


def test_without_momentum() -> None:
    assert steps(RMSpropTF, [2.0], alpha=0.9, eps=1.0) == pytest.approx([1 - 0.2 / math.sqrt(2.3)], abs=1e-12)


def test_lr_acts_through_the_momentum_buffer() -> None:
    """A lr set to 0 after step 1 still moves w by momentum x the buffer (TF), unlike torch's RMSprop."""
    w = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    optimizer = RMSpropTF([w], lr=0.1, alpha=0.9, momentum=0.9, eps=1.0)
    w.grad = torch.tensor([2.0], dtype=torch.float64)
    optimizer.step()
    before = w.item()
    optimizer.param_groups[0]["lr"] = 0.0
    optimizer.step()
    assert before - w.item() == pytest.approx(0.9 * 0.1 * 2 / math.sqrt(2.3), abs=1e-12)


def test_differs_from_torch_rmsprop_where_the_issue_said() -> None:
    """With the old config's torch RMSprop (eps 0.0316 outside the root, mean square from 0), a steady
    gradient of 1e-3 moves w ~30x further per step than TF's eps 1.0 (once the mean square has settled:
    1e-3 / (1e-3 + 0.0316) against 1e-3 / sqrt(1e-6 + 1), a ratio of 30.7)."""
    grads = [1e-3] * 200
    tf = steps(RMSpropTF, grads, lr=0.045, alpha=0.9, momentum=0.9, eps=1.0)
    pt = steps(torch.optim.RMSprop, grads, lr=0.045, alpha=0.9, momentum=0.9, eps=0.0316)
    ratio = (pt[-2] - pt[-1]) / (tf[-2] - tf[-1])
    assert ratio == pytest.approx(math.sqrt(1 + 1e-6) / (1e-3 + 0.0316), rel=1e-3)


def test_config_decays_only_conv_and_linear_weights() -> None:
    """The TF-slim recipe's paramwise_cfg: decay on regular conv and linear weights; none on depthwise
    weights, BatchNorm or biases (MobileNet's training_scope)."""
    init_default_scope("visionkit")
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, bias=False),
        nn.BatchNorm2d(8),
        nn.Conv2d(8, 8, 3, groups=8),
        nn.Flatten(),
        nn.Linear(8, 2),
    )
    wrapper = build_optim_wrapper(
        model,
        dict(
            type="OptimWrapper",
            optimizer=dict(type="RMSpropTF", lr=0.36, alpha=0.9, momentum=0.9, eps=1.0, weight_decay=4e-5),
            paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, dwconv_decay_mult=0.0),
        ),
    )
    assert isinstance(wrapper.optimizer, RMSpropTF)
    decay = {id(g["params"][0]): g["weight_decay"] for g in wrapper.optimizer.param_groups}
    expected = {
        model[0].weight: 4e-5,
        model[1].weight: 0.0,
        model[1].bias: 0.0,
        model[2].weight: 0.0,
        model[2].bias: 0.0,
        model[4].weight: 4e-5,
        model[4].bias: 0.0,
    }
    assert {id(p): v for p, v in expected.items()} == decay


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="alpha"):
        RMSpropTF([nn.Parameter(torch.zeros(1))], alpha=1.0)
    with pytest.raises(ValueError, match="eps"):
        RMSpropTF([nn.Parameter(torch.zeros(1))], eps=-1.0)
