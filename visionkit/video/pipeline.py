"""Annotating a video: decode -> predict -> draw and encode, the three stages overlapping in threads.

Decoding (OpenCV's FFmpeg), inference (PyTorch or a runtime) and encoding release the GIL, so on two
cores a frame decodes while the one before it is predicted and the one before that is drawn and written;
docs/benchmarks.md measures it against the stages one after the other. Frames stay in order, every frame
is predicted, and per-frame drawings and records go through each task's outputs (:mod:`visionkit.outputs`),
so a multi-task model gets every task's overlay and record.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from ..apis.inference import build_test_pipeline, inference_model
from ..outputs import View, outputs_predicted_in
from ..structures import DataSample
from .display import LiveWindow
from .sources import Frame, FrameSource, VideoSourceError
from .stats import VideoStats
from .writer import RecordWriter, VideoWriter

T = TypeVar("T")
_END = object()


@dataclass
class _Failure:
    error: BaseException


def prefetch(items: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Yield ``items`` computed ahead in a background thread (at most ``depth`` waiting), in order; an
    exception the producer raises is raised here after the items before it. Closing this generator
    stops the thread and closes ``items``."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> None:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=0.05)
                return
            except queue.Full:
                continue

    def produce() -> None:
        iterator = iter(items)
        try:
            for item in iterator:
                put(item)
                if stop.is_set():
                    break
            put(_END)
        except BaseException as error:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failure(error))
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="visionkit-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = waiting.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join()


def annotate(image: np.ndarray, sample: DataSample, view: View) -> np.ndarray:
    """``image`` (H, W, 3) uint8 RGB with every task's predictions in ``sample`` drawn, each its own way."""
    for outputs in outputs_predicted_in(sample):
        image = outputs.draw_prediction(image, sample, view)
    return image


def frame_record(frame: Frame, sample: DataSample, view: View) -> dict[str, Any]:
    """``{'frame': index, 'time': seconds, <task record key>: record, ...}`` for one frame."""
    record: dict[str, Any] = {"frame": frame.index, "time": round(frame.time, 4)}
    for outputs in outputs_predicted_in(sample):
        record[outputs.record_key] = outputs.record(sample, view)
    return record


@dataclass
class _Predicted:
    frame: Frame
    sample: DataSample
    decoded_at: float
    infer_ms: float


@dataclass
class VideoOutputs:
    """Where a video's results go (either may be None) and who sees them as they come."""

    video: Path | None = None
    records: Path | None = None
    window: LiveWindow | None = None
    on_frame: Callable[[Frame, DataSample, dict[str, Any]], None] | None = field(default=None, repr=False)


def _decoded(source: FrameSource, max_frames: int | None) -> Iterator[tuple[Frame, float]]:
    """The source's frames (the first ``max_frames``), each with the time it left the decoder."""
    for frame in source:
        if max_frames is not None and frame.index >= max_frames:
            return
        yield frame, time.perf_counter()


def _predict(model: Any, frames: Iterator[tuple[Frame, float]]) -> Iterator[_Predicted]:
    pipeline = build_test_pipeline(model.cfg)
    try:
        for frame, decoded_at in frames:
            start = time.perf_counter()
            (sample,) = inference_model(model, frame.image, pipeline=pipeline)
            yield _Predicted(frame, sample, decoded_at, 1000 * (time.perf_counter() - start))
    finally:
        frames.close()  # stops the decoder (its thread, or the source) when this stage stops early


def annotate_video(
    model: Any,
    source: FrameSource,
    view: View,
    outputs: VideoOutputs,
    max_frames: int | None = None,
    overlap: bool = True,
) -> VideoStats:
    """Predict every frame of ``source`` with ``model`` (from :func:`~visionkit.apis.init_model`: PyTorch
    or any runtime), write the annotated video and the per-frame records, and return the timings.

    The output video has the source's frame rate and one frame per input frame. When the source breaks
    part way (:class:`VideoSourceError`), the frames before it are written and both files closed, then the
    error is raised, saying what was kept. ``overlap=False`` runs the stages one after the other (the
    benchmark's baseline).
    """
    with _threads_left_for_decoding(model, overlap):
        return _annotate(model, source, view, outputs, max_frames, overlap)


@contextmanager
def _threads_left_for_decoding(model: Any, overlap: bool) -> Iterator[None]:
    """While the stages overlap, a PyTorch model gets one intra-op thread fewer (at least one): its OpenMP
    threads spin while they wait for each other, and on a core the decoder or encoder needs they slowed
    inference 2.4x (docs/benchmarks.md). Exported runtimes keep their own pools."""
    threads = torch.get_num_threads()
    if not overlap or not isinstance(model, nn.Module) or threads < 2:
        yield
        return
    torch.set_num_threads(threads - 1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _annotate(
    model: Any, source: FrameSource, view: View, outputs: VideoOutputs, max_frames: int | None, overlap: bool
) -> VideoStats:
    writer = VideoWriter(outputs.video, source.fps) if outputs.video else None
    records = RecordWriter(outputs.records) if outputs.records else None
    stats = VideoStats()
    stats.start()
    frames = _decoded(source, max_frames)
    predicted = _predict(model, prefetch(frames) if overlap else frames)
    predicted = prefetch(predicted) if overlap else predicted
    try:
        for item in predicted:
            drawn = annotate(item.frame.image, item.sample, view)
            record = frame_record(item.frame, item.sample, view)
            if writer is not None:
                writer.write(drawn)
            if records is not None:
                records.write(record)
            stats.add(item.infer_ms, 1000 * (time.perf_counter() - item.decoded_at))
            if outputs.on_frame is not None:
                outputs.on_frame(item.frame, item.sample, record)
            if outputs.window is not None and not outputs.window.show(drawn):
                break
    except VideoSourceError as error:
        kept = [str(p) for p in (outputs.video, outputs.records) if p is not None]
        where = f" in {' and '.join(kept)}" if kept else ""
        raise VideoSourceError(f"{error}; the {stats.frames} frames before it are kept{where}") from None
    finally:
        predicted.close()
        stats.stop()
        for done in (writer, records, outputs.window):
            if done is not None:
                done.close()
    return stats
