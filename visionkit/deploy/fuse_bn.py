"""Fold BatchNorm into the convolution before it for inference (deploy mode).

In eval mode BatchNorm is a per-channel affine map, y = gamma * (x - mean) / sqrt(var + eps) + beta, so a
conv followed by it is one conv with rescaled weights and a bias. The fused model computes the same
outputs with one op and one tensor fewer per layer.

Only pairs whose execution order is known are fused: ``ConvNormAct.conv`` -> ``ConvNormAct.bn`` (its
``forward`` is ``act(bn(conv(x)))``), every conv-BN pair of visionkit's models, and a ``Conv2d`` directly
followed by a ``BatchNorm2d`` inside an ``nn.Sequential`` (as other libraries' models have them). A module
that merely registers a conv before a BatchNorm may apply them to different tensors, so it is left alone
and reported.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from itertools import pairwise

from mmengine.logging import print_log
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from ..models.layers import ConvNormAct


def _conv_bn_pairs(parent: nn.Module) -> Iterator[tuple[str, str]]:
    """Names of (Conv2d, BatchNorm2d) children of ``parent`` where the BN runs on the conv's output."""
    if isinstance(parent, ConvNormAct):
        if isinstance(parent.conv, nn.Conv2d) and isinstance(parent.bn, nn.BatchNorm2d):
            yield "conv", "bn"
    elif isinstance(parent, nn.Sequential):
        for (conv_name, conv), (bn_name, bn) in pairwise(parent.named_children()):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                yield conv_name, bn_name


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """Replace each conv -> BatchNorm2d pair of an eval-mode ``model`` by one conv with bias, in place.

    The BatchNorm becomes ``nn.Identity``, so module paths stay valid. Logs how many pairs were fused
    and names any BatchNorm2d left (one not fed by a conv in a known order); returns ``model``.

    Raises:
        RuntimeError: when any module is in training mode (BatchNorm then uses batch statistics, which
            cannot be folded).
    """
    training = [name or type(model).__name__ for name, module in model.named_modules() if module.training]
    if training:
        shown = ", ".join(training[:5]) + (", ..." if len(training) > 5 else "")
        raise RuntimeError(
            f"fuse_batchnorm needs a model in eval mode, but {len(training)} modules are training "
            f"({shown}): call model.eval() first"
        )
    fused = 0
    for parent in list(model.modules()):
        for conv_name, bn_name in list(_conv_bn_pairs(parent)):
            conv, bn = getattr(parent, conv_name), getattr(parent, bn_name)
            setattr(parent, conv_name, fuse_conv_bn_eval(conv, bn))
            setattr(parent, bn_name, nn.Identity().eval())  # as the rest of the model: a second pass works
            fused += 1
    print_log(f"fuse_batchnorm: folded {fused} BatchNorm2d into their convs", logger="current")
    left = [name for name, module in model.named_modules() if isinstance(module, nn.BatchNorm2d)]
    if left:
        print_log(
            f"fuse_batchnorm: {len(left)} BatchNorm2d not after a conv in a known order, kept: "
            + ", ".join(left),
            logger="current",
            level=logging.WARNING,
        )
    return model
