"""Activations by name, so blocks and configs choose them with a string (``act="hardswish"``)."""

from __future__ import annotations

from torch import nn

# in-place where the activation allows it, as torchvision's Conv2dNormActivation builds them.
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "hardswish": nn.Hardswish,
    "hardsigmoid": nn.Hardsigmoid,
    "sigmoid": nn.Sigmoid,
}


def build_activation(name: str | None) -> nn.Module:
    """The activation called ``name`` (one of ``ACTIVATIONS``); ``None`` gives ``nn.Identity``."""
    if name is None:
        return nn.Identity()
    if name not in ACTIVATIONS:
        raise ValueError(f"Unknown activation '{name}'; choose one of {', '.join(ACTIVATIONS)} or None")
    cls = ACTIVATIONS[name]
    return cls() if cls is nn.Sigmoid else cls(inplace=True)
