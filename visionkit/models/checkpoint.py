"""Loading weights into models: visionkit, torchvision, mmdetection, timm and PaddleClas checkpoints, local
paths, URLs and named checkpoints.

Every checkpoint is read by :func:`read_checkpoint`, by its format (:mod:`.checkpoint_formats`: a
safetensors file through the ``safetensors`` package, :mod:`.checkpoint_safetensors`). A pickle's layout
is checked first (a zip archive as ``torch.save`` lays it out, :mod:`.checkpoint_archive`; the legacy
format by :mod:`.checkpoint_legacy`), then it runs on visionkit's own unpickler
(:mod:`.checkpoint_unpickler`), which builds tensors, numbers, strings, containers, numpy numeric arrays
and the mmengine ``HistoryBuffer`` a Runner saves (a ``ConfigDict`` comes back as its plain dict), within
work and memory budgets set by the file's size (:mod:`.checkpoint_budget`). A file that asks for anything
else (a ``__reduce__`` calling ``os.system``, a ``getattr`` chain, a tensor geometry ``torch.save`` does
not write) is refused with :class:`UnsafeCheckpointError` naming the file and what it asked for; nothing
in it runs. docs/trust_model.md says what is safe to load."""

from __future__ import annotations

import os
from typing import Any

import torch
from mmengine.logging import print_log
from torch import nn

from .checkpoint_allowlist import RefusedPickleError
from .checkpoint_archive import ArchiveLayoutError, TorchScriptArchiveError, TruncatedArchiveError
from .checkpoint_families import family_hint, is_foreign
from .checkpoint_fetch import fetched_checkpoint
from .checkpoint_formats import CheckpointFormatError, read_by_format
from .checkpoint_names import SCHEMES, checkpoint_url
from .checkpoint_safetensors import SafetensorsLayoutError
from .checkpoint_tf import TensorBundleError, TensorBundleRefused
from .checkpoint_tf_archive import read_tf_file
from .untrusted_text import printable

_MAX_KEYS_SHOWN = 10


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not fit the model it is loaded into."""


class CheckpointReadError(RuntimeError):
    """A checkpoint file cannot be read: missing, truncated, or not a checkpoint."""


class UnsafeCheckpointError(CheckpointReadError):
    """A checkpoint asked the unpickler for something other than plain data; nothing of it ran."""


def resolve_checkpoint(filename: str) -> str:
    """The local file behind ``filename``, a path; raises :class:`CheckpointReadError` for a missing file
    or a scheme visionkit does not fetch (URLs are read by :func:`read_checkpoint`)."""
    if "://" in filename:
        raise CheckpointReadError(
            f"Checkpoint '{filename}': only local paths, http(s):// and {', '.join(SCHEMES)} load; "
            "download it and give its path"
        )
    path = os.path.expanduser(filename)
    if not os.path.isfile(path) and not os.path.isfile(path + ".index"):  # or a TF checkpoint prefix
        raise CheckpointReadError(f"Checkpoint '{filename}' not found")
    return path


def _not_loaded(filename: str, reason: str, unsafe: bool = False) -> CheckpointReadError:
    kind = UnsafeCheckpointError if unsafe else CheckpointReadError
    return kind(
        f"Checkpoint '{filename}' was not loaded: {reason}. visionkit loads only tensors and plain data "
        "from checkpoints, within limits set by the file's size, and none of the file ran (see "
        "docs/trust_model.md)"
    )


def _unreadable(filename: str, error: Exception) -> CheckpointReadError:
    return CheckpointReadError(
        f"Cannot read checkpoint '{filename}' ({type(error).__name__}: {printable(str(error))}). It may be "
        "truncated (an interrupted save or download) or not a checkpoint"
    )


def _read_path(path: str, filename: str, map_location: Any = "cpu") -> Any:
    """Read the local file ``path`` by its format (:mod:`.checkpoint_formats`) allowing plain data only;
    messages name it ``filename``.

    A zip checkpoint is refused unless laid out as ``torch.save`` writes it (:mod:`.checkpoint_archive`:
    compressed, overlapping or hidden records), and so is a TorchScript archive, whose code ``torch.load``
    would run (through ``torch.jit.load``).
    """
    try:
        tensors = read_tf_file(path, filename)  # TF checkpoints and releases; None for other files
        if tensors is not None:
            return tensors
        with open(path, "rb") as file:
            return read_by_format(file, map_location)
    except TensorBundleRefused as error:
        raise _not_loaded(
            filename, f"it is a TF checkpoint, and {printable(str(error))}", unsafe=True
        ) from None
    except TensorBundleError as error:
        raise _unreadable(filename, error) from None
    except TruncatedArchiveError as error:
        raise _unreadable(filename, error) from None
    except TorchScriptArchiveError:
        raise _not_loaded(
            filename, "it is a TorchScript archive (torch.jit.save), whose code torch.load would run", True
        ) from None
    except ArchiveLayoutError as error:
        raise _not_loaded(filename, f"{error} (its zip layout is not what torch.save writes)") from None
    except (CheckpointFormatError, SafetensorsLayoutError) as error:
        raise _not_loaded(filename, printable(str(error), 400)) from None
    except RefusedPickleError as error:
        raise _not_loaded(filename, f"it {printable(str(error))}", unsafe=True) from None
    except Exception as error:  # torch's zip reader, malformed pickles, EOF...: none of them name the file
        raise _unreadable(filename, error) from error


def read_checkpoint(filename: str, map_location: Any = "cpu") -> Any:
    """Read ``filename`` (a local path, an ``http(s)://`` URL, ``torchvision://NAME[.VERSION]``,
    ``timm://NAME[.TAG]`` or ``paddleclas://NAME``: :mod:`.checkpoint_names`) allowing plain data only,
    within the limits docs/trust_model.md states. The format is told by the file's bytes, not its name
    (:mod:`.checkpoint_formats`: PyTorch zip or legacy, safetensors, a plain pickle of numpy arrays), except
    TF checkpoints, which are several files named by one prefix: the prefix, ``PREFIX.index``, a
    ``.data-*`` shard, or a ``.tgz`` / ``.tar.gz`` release (:mod:`.checkpoint_tf_archive`).

    URLs are downloaded once into visionkit's own cache (:mod:`.checkpoint_fetch`); a download enters it
    only once it has been read safely, and a cached file that no longer reads is deleted.

    Raises:
        UnsafeCheckpointError: the file asks for a type, call or amount outside the allowlist (nothing ran).
        CheckpointReadError: missing, truncated or not a checkpoint (the message names the file, and the
            format it looks like).
        CheckpointFetchError: a URL could not be downloaded whole and hash-checked.
    """
    url = checkpoint_url(filename)
    if url.startswith(("http://", "https://")):
        with fetched_checkpoint(url) as path:
            return _read_path(path, filename, map_location)
    return _read_path(resolve_checkpoint(filename), filename, map_location)


def load_from_visionkit(filename: str, map_location: Any = None) -> Any:
    """mmengine's ``CheckpointLoader`` scheme handler: :func:`read_checkpoint` (tensors onto the CPU
    unless told otherwise, never where the file says)."""
    return read_checkpoint(filename, map_location="cpu" if map_location is None else map_location)


def route_mmengine_loading() -> None:
    """Make every scheme of mmengine's ``CheckpointLoader`` read through :func:`read_checkpoint`.

    Heads, necks and whole models load ``init_cfg=dict(type='Pretrained')`` through it, and so does
    ``mmengine.runner.load_checkpoint``; its own loaders call ``torch.load`` with torch's default, which
    ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`` turns into full unpickling. Schemes visionkit does not fetch
    (``open-mmlab://``, ``s3://``...) are refused by name.
    """
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(list(CheckpointLoader._schemes), load_from_visionkit, force=True)


route_mmengine_loading()


def _lines(text: str, count: int = 40) -> str:
    """torch's multi-line message about the file's keys, each line escaped (the keys are the file's)."""
    return "\n".join(printable(line, 500) for line in text.splitlines()[:count])


def _format_keys(kind: str, keys: list[str]) -> str:
    if not keys:
        return ""
    shown = ", ".join(printable(key, 120) for key in keys[:_MAX_KEYS_SHOWN])  # the file's names
    more = f" (+{len(keys) - _MAX_KEYS_SHOWN} more)" if len(keys) > _MAX_KEYS_SHOWN else ""
    return f"\n  {kind} ({len(keys)}): {shown}{more}"


def extract_state_dict(checkpoint: Any) -> dict[str, torch.Tensor]:
    """The state dict inside a loaded checkpoint (mmengine's ``{'state_dict': ...}`` or a bare one)."""
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("state_dict"), dict):
        checkpoint = checkpoint["state_dict"]
    if not isinstance(checkpoint, dict):
        raise CheckpointMismatchError(f"Expected a state dict, got {type(checkpoint).__name__}")
    for key, value in checkpoint.items():
        if type(key) is not str or not (isinstance(value, torch.Tensor) or key.endswith("_extra_state")):
            raise CheckpointMismatchError(
                f"Expected a state dict (names -> tensors), got {printable(repr(key), 60)} -> "
                f"{type(value).__name__}"
            )
    return {k[len("module.") :] if k.startswith("module.") else k: v for k, v in checkpoint.items()}


def load_state_dict_checked(
    model: nn.Module,
    state_dict: dict[str, torch.Tensor],
    source: str,
    allow_missing: bool = False,
    allow_unexpected: bool = False,
    backbone_hint: str = "",
    hint: str = "",
) -> Any:
    """``model.load_state_dict`` raising :class:`CheckpointMismatchError` that names the keys.

    Shape mismatches always raise; missing and unexpected keys raise unless allowed. ``backbone_hint`` is
    added when unexpected keys start with ``backbone.``, ``hint`` to every error, then the family of
    networks the file's keys look like (:mod:`.checkpoint_families`). Returns torch's result (its
    ``missing_keys``).
    """
    try:
        result = model.load_state_dict(state_dict, strict=False)
    except RuntimeError as error:
        hint += family_hint(state_dict)
        raise CheckpointMismatchError(
            f"{source} does not fit {type(model).__name__}: {_lines(str(error))}{hint}"
        ) from error
    missing = [] if allow_missing else result.missing_keys
    unexpected = [] if allow_unexpected else result.unexpected_keys
    if missing or unexpected:
        message = f"{source} does not fit {type(model).__name__}:"
        if missing:
            message += _format_keys("missing in the checkpoint", missing)
        if unexpected:
            message += _format_keys("not in the model", unexpected)
            if any(k.startswith("backbone.") for k in unexpected) and not is_foreign(state_dict):
                message += backbone_hint
        raise CheckpointMismatchError(message + hint + family_hint(state_dict))
    return result


def renamed_for(model: nn.Module, state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A copy of ``state_dict`` with the keys renamed as ``model.load_state_dict`` would rename them: the
    modules' load-state-dict pre-hooks (torchvision and mmdetection keys) run on it, parents first."""
    state_dict = dict(state_dict)
    for name, module in model.named_modules():
        for hook in module._load_state_dict_pre_hooks.values():
            hook(state_dict, f"{name}." if name else "", {}, False, [], [], [])
    return state_dict


def load_state_dict_partial(model: nn.Module, state_dict: dict[str, torch.Tensor], source: str) -> dict:
    """Load what fits; skip keys the model lacks, keys it has that the file lacks, and shape mismatches.

    Every skipped key is logged as a warning, by kind. Returns ``{'missing': [...], 'unexpected': [...],
    'shape_mismatch': [...]}`` (key lists, in the model's names).
    """
    state_dict = renamed_for(model, state_dict)
    own = model.state_dict()
    mismatched = [k for k, v in state_dict.items() if k in own and tuple(own[k].shape) != tuple(v.shape)]
    fitting = {k: v for k, v in state_dict.items() if k not in mismatched}
    result = model.load_state_dict(fitting, strict=False)
    skipped = {
        "missing": [k for k in result.missing_keys if k not in mismatched],  # mismatches are listed below
        "unexpected": list(result.unexpected_keys),
        "shape_mismatch": [f"{k} {tuple(state_dict[k].shape)} vs {tuple(own[k].shape)}" for k in mismatched],
    }
    if any(skipped.values()):
        message = f"{source}: partial load into {type(model).__name__}, skipped:"
        message += _format_keys("missing in the checkpoint (kept their initialisation)", skipped["missing"])
        message += _format_keys("not in the model (ignored)", skipped["unexpected"])
        message += _format_keys("shape mismatch (kept their initialisation)", skipped["shape_mismatch"])
        print_log(message, logger="current", level=30)
    return skipped


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
    checkpoint = read_checkpoint(filename, map_location=map_location)
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
