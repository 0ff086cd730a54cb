"""Loading weights into models: visionkit and torchvision checkpoints, local paths and URLs.

``torch.load`` runs with ``weights_only=True`` (the default from torch 2.6): files cannot execute code.
mmengine's checkpoints carry a little more than tensors in ``meta`` and ``message_hub`` (numpy arrays,
``HistoryBuffer``, ``ConfigDict``); :func:`allow_mmengine_checkpoint_globals` puts exactly those types
on torch's safe-globals allowlist, which is what lets mmengine 0.10.x resume under torch >= 2.6.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import torch
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

_MAX_KEYS_SHOWN = 10


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not fit the model it is loaded into."""


def allow_mmengine_checkpoint_globals() -> None:
    """Allow the non-tensor types that mmengine's Runner writes into checkpoints for safe loading."""
    add_safe_globals = getattr(torch.serialization, "add_safe_globals", None)
    if add_safe_globals is None:  # torch < 2.4 loads everything anyway
        return
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer

    numpy_types: list[Any] = [
        np.ndarray,
        np.dtype,
        np.core.multiarray._reconstruct,
        np.core.multiarray.scalar,
    ]
    numpy_types += [
        type(np.dtype(t))
        for t in (np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_)
    ]
    add_safe_globals(
        [*numpy_types, HistoryBuffer, ConfigDict, collections.OrderedDict, collections.defaultdict, getattr]
    )


def _format_keys(kind: str, keys: list[str]) -> str:
    shown = ", ".join(keys[:_MAX_KEYS_SHOWN])
    more = f" (+{len(keys) - _MAX_KEYS_SHOWN} more)" if len(keys) > _MAX_KEYS_SHOWN else ""
    return f"\n  {kind} ({len(keys)}): {shown}{more}"


def extract_state_dict(checkpoint: Any) -> dict[str, torch.Tensor]:
    """The state dict inside a loaded checkpoint (mmengine's ``{'state_dict': ...}`` or a bare one)."""
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(f"Expected a state dict, got {type(checkpoint).__name__}")
    return {k[len("module.") :] if k.startswith("module.") else k: v for k, v in checkpoint.items()}


def load_checkpoint(
    model: nn.Module,
    filename: str,
    prefix: str | None = None,
    strict: bool = True,
    map_location: str | torch.device = "cpu",
) -> dict[str, Any]:
    """Load ``filename`` (path, ``http(s)://`` URL or ``torchvision://NAME``) into ``model``.

    Args:
        prefix: load only keys under this prefix, stripped (``'backbone.'`` loads a whole-classifier
            checkpoint into a backbone).
        strict: raise :class:`CheckpointMismatchError` naming missing and unexpected keys. Shape
            mismatches always raise.

    Returns:
        The loaded checkpoint object (for its ``meta``).
    """
    checkpoint = _load_checkpoint(filename, map_location=map_location)
    state_dict = extract_state_dict(checkpoint)
    if prefix:
        state_dict = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise CheckpointMismatchError(f"Checkpoint '{filename}' has no keys under prefix '{prefix}'")
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:
        raise CheckpointMismatchError(
            f"Checkpoint '{filename}' does not fit {type(model).__name__}: {error}"
        ) from error
    if strict and (result.missing_keys or result.unexpected_keys):
        message = f"Checkpoint '{filename}' does not fit {type(model).__name__}:"
        if result.missing_keys:
            message += _format_keys("missing in the checkpoint", result.missing_keys)
        if result.unexpected_keys:
            message += _format_keys("not in the model", result.unexpected_keys)
            if prefix is None and any(k.startswith("backbone.") for k in result.unexpected_keys):
                message += "\n  (a whole-model checkpoint into a backbone? pass prefix='backbone.')"
        raise CheckpointMismatchError(message)
    return checkpoint
