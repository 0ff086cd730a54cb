"""mmengine's Runner, able to resume from its own checkpoints under torch >= 2.6."""

from __future__ import annotations

from mmengine.runner import Runner as MMEngineRunner

from ..models.checkpoint import mmengine_checkpoint_globals
from ..registry import RUNNERS


@RUNNERS.register_module()
class Runner(MMEngineRunner):
    """mmengine's ``Runner`` whose ``load_from`` / ``resume`` accept the types its checkpoints hold.

    mmengine 0.10.x calls ``torch.load`` with torch's default ``weights_only=True`` (torch >= 2.6), which
    rejects the numpy and ``HistoryBuffer`` objects the Runner itself saves; loading happens here inside
    :func:`~visionkit.models.checkpoint.mmengine_checkpoint_globals`, so only those types are added.
    """

    def load_or_resume(self) -> None:
        with mmengine_checkpoint_globals():
            super().load_or_resume()
