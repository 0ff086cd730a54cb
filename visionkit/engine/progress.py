"""Progress bars for loops over many images (evaluation, ``tools/infer.py``), drawn only on a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

T = TypeVar("T")


def make_progress(console: Console | None = None) -> Progress:
    """A rich progress bar on stderr: ``label ━━━━━━ 12/50 0:00:31``; it disappears when done."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        transient=True,
    )


def show_progress() -> bool:
    """Whether to draw a bar: only when stderr is a terminal (logs and pipes stay free of bar frames)."""
    return sys.stderr.isatty()


def track(items: Iterable[T], total: int, label: str, progress: Progress | None = None) -> Iterator[T]:
    """Yield ``items`` while advancing a bar of ``total`` steps (no bar off a terminal or for one item)."""
    if progress is None or total <= 1:
        yield from items
        return
    with progress:
        task = progress.add_task(label, total=total)
        for item in items:
            yield item
            progress.advance(task)
