"""Throughput and latency of a video run: frames, frames per second, per-frame latency percentiles."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class VideoStats:
    """Per-frame timings of one run, in milliseconds.

    ``infer_ms``: the model's time per frame (test pipeline, network, post-processing). ``latency_ms``:
    from the frame leaving the decoder to its annotated frame written (queue waits included: what a viewer
    of a live source sees). ``seconds``: wall time from the first frame asked for to the last written.
    """

    infer_ms: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    _started: float | None = None

    def start(self) -> None:
        self._started = time.perf_counter()

    def stop(self) -> None:
        if self._started is not None:
            self.seconds = time.perf_counter() - self._started

    def add(self, infer_ms: float, latency_ms: float) -> None:
        self.infer_ms.append(infer_ms)
        self.latency_ms.append(latency_ms)

    @property
    def frames(self) -> int:
        return len(self.infer_ms)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """``90 frames in 3.21 s: 28.0 frames/s; latency p50 95.1 ms, p90 120.4 ms (inference p50 30.2 ms,
        p90 35.0 ms)``."""
        text = f"{self.frames} frames in {self.seconds:.2f} s: {self.fps:.1f} frames/s"
        if not self.frames:
            return text
        latency = np.percentile(self.latency_ms, [50, 90])
        infer = np.percentile(self.infer_ms, [50, 90])
        return (
            f"{text}; latency p50 {latency[0]:.1f} ms, p90 {latency[1]:.1f} ms "
            f"(inference p50 {infer[0]:.1f} ms, p90 {infer[1]:.1f} ms)"
        )
