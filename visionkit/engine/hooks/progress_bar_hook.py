"""A progress bar over the test set, on a terminal (``tools/test.py``)."""

from __future__ import annotations

from typing import Any

from mmengine.dist import is_main_process
from mmengine.hooks import Hook

from ...registry import HOOKS
from ..progress import make_progress, show_progress


@HOOKS.register_module()
class ProgressBarHook(Hook):
    """Draws ``testing ━━━━ 12/50 0:00:31`` on stderr while the test loop runs (main process, on a
    terminal only)."""

    priority = "VERY_LOW"

    def __init__(self) -> None:
        self._progress = None
        self._task = None

    def before_test_epoch(self, runner: Any) -> None:
        if not (is_main_process() and show_progress()):
            return
        self._progress = make_progress()
        self._task = self._progress.add_task("testing", total=len(runner.test_dataloader))
        self._progress.start()

    def after_test_iter(
        self, runner: Any, batch_idx: int, data_batch: Any = None, outputs: Any = None
    ) -> None:
        if self._progress is not None:
            self._progress.advance(self._task)

    def after_test_epoch(self, runner: Any, metrics: dict | None = None) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
