"""mmengine's Runner, reading checkpoints as plain data only and writing them atomically."""

from __future__ import annotations

from typing import Any

from mmengine.runner import Runner as MMEngineRunner

from ..models.checkpoint import CheckpointReadError
from ..registry import RUNNERS
from .checkpoint_io import load_runner_checkpoint, save_checkpoint_atomically


@RUNNERS.register_module()
class Runner(MMEngineRunner):
    """mmengine's ``Runner`` with visionkit's checkpoint reading and writing (:mod:`.checkpoint_io`).

    ``load_from`` and resume read a checkpoint with visionkit's restricted unpickler (no code in a file
    runs; a saved ``meta['config']`` is never executed) and load strictly unless the config sets
    ``load_from_strict = False``; every save is atomic and refuses non-finite weights.
    """

    def load_checkpoint(
        self, filename: str, map_location: Any = "cpu", strict: bool | None = None, revise_keys: Any = None
    ) -> dict:
        return load_runner_checkpoint(self, filename, map_location, strict)

    def resume(self, filename: str, *args: Any, **kwargs: Any) -> None:
        try:
            super().resume(filename, *args, **kwargs)
        except KeyError as error:  # a bare state dict has no meta / message_hub to continue from
            raise CheckpointReadError(
                f"Checkpoint '{filename}' cannot be resumed: it has no {error} (not a checkpoint the Runner "
                "saved); start from its weights with --cfg-options load_from=PATH instead"
            ) from error

    def save_checkpoint(self, out_dir: str, filename: str, *args: Any, **kwargs: Any) -> None:
        save_checkpoint_atomically(super().save_checkpoint, self, out_dir, filename, *args, **kwargs)
