"""Give every BatchNorm non-trivial statistics and affine parameters, so folding it is tested for real.

A freshly built BatchNorm2d (mean 0, var 1, gamma 1, beta 0) is close to identity in eval mode: a fusion
that dropped it would still pass.
"""

from __future__ import annotations

import torch
from torch import nn


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
