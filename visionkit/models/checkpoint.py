"""Loading weights into models: visionkit and torchvision checkpoints, local paths and URLs.

``torch.load`` runs with ``weights_only=True`` (the default from torch 2.6): a file cannot run code.
Checkpoints written by mmengine's Runner carry a little more than tensors in ``meta`` and
``message_hub``: numpy arrays and scalars, ``HistoryBuffer`` (whose statistics methods pickle through
``getattr``) and ``ConfigDict``, so mmengine 0.10.x cannot load its own checkpoints under torch >= 2.6.
:func:`mmengine_checkpoint_globals` allows exactly those types, and only while visionkit loads a
checkpoint; every other ``torch.load`` in the process keeps torch's default allowlist. Even inside it,
the unpickler only calls allow-listed callables, so a hostile file still cannot execute code.
"""

from __future__ import annotations

import collections
import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from mmengine.runner.checkpoint import _load_checkpoint
from torch import nn

_MAX_KEYS_SHOWN = 10


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not fit the model it is loaded into."""


def _mmengine_checkpoint_types() -> list[Any]:
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer

    multiarray = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
    dtypes = (np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_)
    return [
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        *(type(np.dtype(t)) for t in dtypes),
        HistoryBuffer,
        ConfigDict,
        collections.OrderedDict,
        collections.defaultdict,
        getattr,
    ]


@contextlib.contextmanager
def mmengine_checkpoint_globals() -> Iterator[None]:
    """Within the block, ``torch.load`` also accepts the non-tensor types mmengine's Runner saves."""
    safe_globals = getattr(torch.serialization, "safe_globals", None)
    if safe_globals is None:  # torch < 2.5: weights_only is off by default, nothing to allow
        yield
        return
    with safe_globals(_mmengine_checkpoint_types()):
        yield


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


def load_state_dict_checked(
    model: nn.Module,
    state_dict: dict[str, torch.Tensor],
    source: str,
    allow_missing: bool = False,
    allow_unexpected: bool = False,
    backbone_hint: str = "",
) -> Any:
    """``model.load_state_dict`` raising :class:`CheckpointMismatchError` that names the keys.

    Shape mismatches always raise; missing and unexpected keys raise unless allowed. ``backbone_hint`` is
    added when unexpected keys start with ``backbone.``. Returns torch's result (its ``missing_keys``).
    """
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:
        raise CheckpointMismatchError(f"{source} does not fit {type(model).__name__}: {error}") from error
    missing = [] if allow_missing else result.missing_keys
    unexpected = [] if allow_unexpected else result.unexpected_keys
    if missing or unexpected:
        message = f"{source} does not fit {type(model).__name__}:"
        if missing:
            message += _format_keys("missing in the checkpoint", missing)
        if unexpected:
            message += _format_keys("not in the model", unexpected)
            if any(k.startswith("backbone.") for k in unexpected):
                message += backbone_hint
        raise CheckpointMismatchError(message)
    return result


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
    with mmengine_checkpoint_globals():
        checkpoint = _load_checkpoint(filename, map_location=map_location)
    state_dict = extract_state_dict(checkpoint)
    if prefix:
        state_dict = {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}
        if not state_dict:
            raise CheckpointMismatchError(f"Checkpoint '{filename}' has no keys under prefix '{prefix}'")
    hint = ""
    if prefix is None:
        hint = "\n  (a whole-model checkpoint into a backbone? pass prefix='backbone.')"
    load_state_dict_checked(
        model,
        state_dict,
        f"Checkpoint '{filename}'",
        allow_missing=not strict,
        allow_unexpected=not strict,
        backbone_hint=hint,
    )
    return checkpoint
