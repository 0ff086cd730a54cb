"""BatchNorm statistics that make a random model's output depend on its input, and the check that it does.

A freshly built BatchNorm2d (mean 0, var 1, gamma 1, beta 0) is close to identity in eval mode: a fusion
that dropped it would still pass. Random running statistics alone are no better: the activations of an
untrained network then fade or blow up with depth until every image gives the same output, and any two
implementations "agree". :func:`calibrate_batchnorm` measures the statistics on real inputs, as training
would leave them, and :func:`assert_depends_on_input` is the check every comparison test makes first.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn


def train_every_batchnorm(model: nn.Module) -> nn.Module:
    """``model.train()``, and every ``BatchNorm2d`` in training mode too: frozen backbone stages keep theirs
    in eval mode under ``model.train()``, so their statistics would not be measured."""
    model.train()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.train()
    return model


def randomise_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Draw running mean, running var, weight and bias of each ``BatchNorm2d`` in ``model``, in place."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                shape = module.running_mean.shape
                module.running_mean.copy_(0.5 * torch.randn(shape, generator=generator))
                module.running_var.copy_(0.5 + 1.5 * torch.rand(shape, generator=generator))
                module.weight.copy_(0.5 + torch.rand(shape, generator=generator))
                module.bias.copy_(0.5 * torch.randn(shape, generator=generator))
    return model


def calibrate_batchnorm(
    model: nn.Module, size: tuple[int, int], seed: int = 0, run: Callable[[Tensor], object] | None = None
) -> nn.Module:
    """Set every BatchNorm's running statistics to those of a batch of 4 random normalised images
    (N(0, 1), ``size`` (H, W)); ``run(images)`` is the forward pass (default ``model(images,
    mode='tensor')``, a visionkit task model). Returns ``model`` in eval mode."""
    for norm in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average: one batch sets the statistics
    train_every_batchnorm(model)
    images = torch.randn(4, 3, *size, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        (run or (lambda x: model(x, mode="tensor")))(images)
    return model.eval()


def randomise_affines_and_calibrate(model: nn.Module, size: tuple[int, int]) -> nn.Module:
    """A plain ``model(images)`` network (a torchvision classifier) with random BN affines and ``Linear``
    layers (global RNG) and BN statistics measured on images of ``size``, in eval mode.

    Freshly initialised, such a classifier's logits are ~1e-9; with random statistics alone, every image
    gives the same logits: either way any model would "match" them.
    """
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            nn.init.normal_(module.weight, 1.0, 0.3)
            nn.init.normal_(module.bias, 0.0, 0.3)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.05)
            nn.init.normal_(module.bias, 0, 0.05)
    return calibrate_batchnorm(model, size, run=model)


def assert_depends_on_input(first: Tensor, second: Tensor, min_change: float = 0.05) -> None:
    """Outputs of two different inputs differ by more than ``min_change`` x their magnitude.

    Call it before comparing two implementations on a random model: if the outputs ignore the input,
    the comparison cannot fail.
    """
    scale = torch.maximum(first.abs().max(), second.abs().max())
    assert scale > 1e-3, "the outputs are all ~0"
    change = (first - second).abs().max() / scale
    assert change > min_change, f"two inputs give the same output (relative change {change:.2e})"
