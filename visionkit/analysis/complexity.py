"""Parameters and multiply-adds, counted the way the MobileNet papers, TF slim and torchvision do.

A multiply-add (MAdd) is one multiplication plus one addition of a convolution or fully connected layer:
``H_out * W_out * C_out * (C_in / groups) * k_h * k_w`` for a conv and ``in * out`` for a linear
layer, per image. BatchNorm, activations, pooling, residual additions and resizing are not counted
(paper section 5: "the number of multiply-adds"). Bias additions are not counted either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import Tensor, nn


class ComplexityReport(NamedTuple):
    params: int
    madds: int
    madds_by_module: dict[str, int]


def _conv_madds(module: nn.Conv2d, output: Tensor) -> int:
    kh, kw = module.kernel_size
    per_output = (module.in_channels // module.groups) * kh * kw
    return output[0].numel() * per_output


def _linear_madds(module: nn.Linear, output: Tensor) -> int:
    return output[0].numel() * module.in_features


@torch.no_grad()
def count_complexity(
    model: nn.Module, inputs: Tensor, forward: Callable[[nn.Module, Tensor], object] | None = None
) -> ComplexityReport:
    """Count parameters and per-image MAdds of ``model`` on ``inputs`` (1, 3, H, W).

    Args:
        forward: how to run the model (default ``model(inputs)``); e.g.
            ``lambda m, x: m(x, mode='tensor')`` for a task model.
    """
    if inputs.shape[0] != 1:
        raise ValueError(f"count MAdds on a batch of one image, got batch {inputs.shape[0]}")
    counts: dict[str, int] = {}
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            counter = _conv_madds if isinstance(module, nn.Conv2d) else _linear_madds

            def hook(
                mod: nn.Module, _: tuple, output: Tensor, name: str = name, counter: Callable = counter
            ) -> None:
                counts[name] = counts.get(name, 0) + counter(mod, output)

            handles.append(module.register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        (forward or (lambda m, x: m(x)))(model, inputs)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    params = sum(p.numel() for p in model.parameters())
    return ComplexityReport(params, sum(counts.values()), counts)
