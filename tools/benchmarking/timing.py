"""Timing models side by side: interleaved rounds, medians, ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import NamedTuple

import torch


class Timing(NamedTuple):
    name: str
    batch: int
    median_ms: float
    p90_ms: float

    @property
    def images_per_s(self) -> float:
        return 1000.0 * self.batch / self.median_ms


@torch.inference_mode()
def time_side_by_side(
    runs: dict[str, Callable[[], object]],
    batch: int,
    warmup: int = 5,
    rounds: int = 30,
    repeat: int = 1,
    pause: float = 0.0,
) -> list[Timing]:
    """Time each callable (one call = one batch of ``batch`` images) in interleaved rounds.

    Interleaving (a, b, a, b, ...) exposes every candidate to the same machine state (clock, cache,
    other load), so their ratio holds even when the absolute numbers drift. ``rounds`` must be at least
    2 (a 90th percentile needs two times). In each round a candidate runs ``repeat`` times in a row, after
    ``pause`` seconds of idle: ONNX Runtime's thread pools spin for tens of milliseconds after a run, and
    on a CPU with few cores they slow whatever runs next (see docs/benchmarks.md).
    """
    if rounds < 2:
        raise ValueError(f"time_side_by_side needs rounds >= 2 for its 90th percentile, got {rounds}")
    for _ in range(warmup):
        for run in runs.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            if pause:
                time.sleep(pause)
            for _ in range(repeat):
                start = time.perf_counter()
                run()
                samples[name].append(1000.0 * (time.perf_counter() - start))
    return [
        Timing(name, batch, statistics.median(ms), statistics.quantiles(ms, n=10)[-1])
        for name, ms in samples.items()
    ]


def format_timings(
    timings: list[Timing], reference: str, share: Callable[[Timing], float] | None = None
) -> str:
    """A text table; ``speed`` is the reference's median time over the row's (> 1: faster than it);
    ``share(timing)`` adds a column, e.g. the share of the CPU's float peak (:mod:`.cpu_peak`)."""
    base = {t.batch: t.median_ms for t in timings if t.name == reference}
    width = max(len(t.name) for t in timings)
    header = f"{'model':<{width}}  batch  median ms  p90 ms    img/s  speed" + ("  peak" if share else "")
    lines = [f"speed relative to: {reference}", header, "-" * len(header)]
    for t in timings:
        ratio = base[t.batch] / t.median_ms if t.batch in base else float("nan")
        lines.append(
            f"{t.name:<{width}}  {t.batch:>5}  {t.median_ms:>9.2f}  {t.p90_ms:>6.2f}  {t.images_per_s:>7.1f}"
            f"  {ratio:.2f}x" + (f"  {100 * share(t):>4.0f}%" if share else "")
        )
    return "\n".join(lines)
