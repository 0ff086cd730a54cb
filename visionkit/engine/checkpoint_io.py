"""How visionkit's Runner writes and reads its checkpoints: atomically, safely, strictly by default.

- Writes go to a hidden temporary file in the same folder, are flushed to disk, then renamed over the
  final name (``os.replace`` is atomic on one file system) and the folder is flushed too: a run killed
  mid-save leaves the previous files intact and no half-written file under a checkpoint's name.
- A write that fails (a full disk, a quota, an I/O error) removes its temporary file and stops every
  process with :class:`CheckpointWriteError` naming the path; nothing already written is touched.
- Reads go through :func:`visionkit.models.checkpoint.read_checkpoint` (plain data only); a saved
  ``meta['config']`` is dropped unexecuted (mmengine's resume would run it as Python).
- ``load_from`` / resume load strictly unless the config sets ``load_from_strict = False``; then what
  does not fit is skipped and listed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from mmengine.dist import broadcast_object_list, is_distributed, is_main_process
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from ..models.checkpoint import (
    CheckpointReadError,
    extract_state_dict,
    load_state_dict_checked,
    load_state_dict_partial,
    read_checkpoint,
)
from .hooks.non_finite_check_hook import NonFiniteError, non_finite_names


class CheckpointWriteError(OSError):
    """A checkpoint or the ``last_checkpoint`` pointer could not be written; what was there before is
    unchanged."""


def _temporary_name(path: str) -> str:
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name}.{os.getpid()}.tmp")


def _fsync_folder(folder: str) -> None:
    """Flush a folder's entries (a rename survives a power cut only then); not every file system can."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_atomically(temporary: str, path: str) -> None:
    """Flush ``temporary`` to disk, then rename it to ``path`` (which readers see whole or not at all)."""
    with open(temporary, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(temporary, path)
    _fsync_folder(os.path.dirname(path))


def write_text_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder."""
    temporary = _temporary_name(path)
    try:
        with open(temporary, "w") as f:
            f.write(text)
        replace_atomically(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def on_main_process(action: Callable[[], None], path: str, pointer: str) -> None:
    """Run ``action`` (a write of ``path``) on the main process; if it fails with an ``OSError``, every
    process raises :class:`CheckpointWriteError` (a collective when distributed, so call it on all ranks).

    ``pointer`` is the ``last_checkpoint`` file the message says is unchanged.
    """
    failure = None
    if is_main_process():
        try:
            action()
        except OSError as error:
            failure = (
                f"Could not write '{path}': {error.strerror or error}. Nothing else was changed: the "
                f"previous checkpoint and '{pointer}' are as they were, and --resume continues from "
                "there (free disk space or fix the folder first)"
            )
    if is_distributed():
        shared = [failure]
        broadcast_object_list(shared, src=0)
        failure = shared[0]
    if failure:
        raise CheckpointWriteError(failure)


def unwrapped(model: Any) -> Any:
    return model.module if is_model_wrapper(model) else model


def save_checkpoint_atomically(
    save: Callable[..., None], runner: Any, out_dir: str, filename: str, *args: Any, **kwargs: Any
) -> None:
    """Run mmengine's ``Runner.save_checkpoint`` (``save``, which writes on the main process only) into a
    temporary file, then rename it. Every process calls it (see :func:`on_main_process`).

    Refuses (:class:`NonFiniteError`) to save a model with non-finite weights or buffers, and raises
    :class:`CheckpointWriteError` on every process if the file cannot be written.
    """
    bad = non_finite_names(unwrapped(runner.model).state_dict().items())
    if bad:
        raise NonFiniteError(
            f"Training diverged in epoch {runner.epoch + 1} (after {runner.iter} iterations): not saving "
            f"{filename}, {len(bad)} tensors of the model are non-finite ({', '.join(bad[:5])}). The last "
            "checkpoint written stays the one --resume picks; lower the learning rate or clip gradients"
        )
    if "://" in out_dir:  # remote storage backends write their own way
        save(out_dir, filename, *args, **kwargs)
        return
    path = os.path.join(out_dir, filename)
    temporary = _temporary_name(path)

    def write() -> None:
        try:
            save(out_dir, os.path.relpath(temporary, out_dir), *args, **kwargs)
            replace_atomically(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)

    on_main_process(write, path, os.path.join(runner.work_dir, "last_checkpoint"))


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _meta(meta: Any) -> bool:
    counts = (
        all(_is_count(meta[k]) for k in ("epoch", "iter") if k in meta) if isinstance(meta, dict) else False
    )
    return counts and (meta.get("seed") is None or type(meta["seed"]) is int)


def _message_hub(hub: Any) -> bool:
    parts = ("log_scalars", "runtime_info", "resumed_keys")
    return isinstance(hub, dict) and all(isinstance(hub.get(k), dict) for k in parts)


def _scheduler_states(states: Any) -> bool:
    """mmengine's scheduler states: dicts of their attributes (a list, or one list per optimizer)."""
    lists = list(states.values()) if isinstance(states, dict) else [states]
    return all(type(part) is list for part in lists) and all(
        isinstance(state, dict) and all(type(k) is str for k in state) and "optimizer" not in state
        for part in lists
        for state in part
    )


_RUNNER_PARTS = {
    "meta": _meta,
    "message_hub": _message_hub,
    "optimizer": lambda optimizer: isinstance(optimizer, dict),
    "param_schedulers": _scheduler_states,
}


def check_runner_parts(checkpoint: Any, filename: str) -> None:
    """Refuse a checkpoint whose parts that the Runner reads on resume are not of the types it saves them
    in (counts for ``meta['epoch']`` / ``['iter']``, dicts for the message hub, dicts of scheduler
    attributes without an ``optimizer``): mmengine would fail on them mid-resume with a traceback, or set
    a scheduler's optimizer from the file."""
    if not isinstance(checkpoint, dict):
        return  # extract_state_dict names what it is
    for key, check in _RUNNER_PARTS.items():
        if key in checkpoint and not check(checkpoint[key]):
            raise CheckpointReadError(
                f"Checkpoint '{filename}': its '{key}' is not in the form visionkit's Runner saves it (the "
                "file was changed since, or not saved by a Runner); load its weights with load_from=PATH"
            )


def load_runner_checkpoint(runner: Any, filename: str, map_location: Any, strict: bool | None) -> dict:
    """What ``Runner.load_checkpoint`` does, reading plain data only and strict unless configured not to."""
    checkpoint = read_checkpoint(filename, map_location=map_location)
    check_runner_parts(checkpoint, filename)
    meta = checkpoint.get("meta") if isinstance(checkpoint, dict) else None
    if isinstance(meta, dict) and "config" in meta:
        meta.pop("config")
        print_log(
            f"Checkpoint '{filename}': its meta['config'] text was ignored, not executed", logger="current"
        )
    runner.call_hook("after_load_checkpoint", checkpoint=checkpoint)
    model = unwrapped(runner.model)
    state_dict = extract_state_dict(checkpoint)
    strict = runner.cfg.get("load_from_strict", True) if strict is None else strict
    source = f"Checkpoint '{filename}'"
    if strict:
        hint = "\n  (to load what fits and list the rest, set load_from_strict=False in the config)"
        load_state_dict_checked(model, state_dict, source, hint=hint)
    else:
        load_state_dict_partial(model, state_dict, source)
    runner._has_loaded = True
    runner.logger.info(f"Load checkpoint from {filename}")
    return checkpoint
