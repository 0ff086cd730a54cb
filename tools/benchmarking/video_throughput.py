"""Frames per second of the video pipeline (``tools/infer.py`` on a video) on a generated 640x480 clip, with
decode, inference and encode overlapped in threads and one after the other, for each runtime of a model.

Each runtime's file is exported here from the config's model (random weights, detection's scores made
trained-like: :func:`~benchmarking.candidates.prepare_for_timing`); INT8 files are calibrated on the clip's
first frame (timing does not depend on calibration quality). The rounds interleave every (runtime, mode) so
that each sees the same machine state; the table gives the median and range over the rounds.
"""

from __future__ import annotations

import copy
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from mmengine.config import Config
from skimage import data as skimage_data
from torch import nn

from visionkit.apis import init_model
from visionkit.apis.inference import build_test_pipeline, prepare_image
from visionkit.deploy import export_onnx
from visionkit.deploy.quantize import quantize_onnx
from visionkit.deploy.runtimes import pad_stack
from visionkit.outputs import View
from visionkit.video import VideoFileSource, VideoOutputs, annotate_video

CLIP_SIZE = (640, 480)


def write_clip(path: Path, frames: int, fps: float = 30.0) -> Path:
    """A 640x480 MPEG-4 clip: scikit-image's astronaut with a disc and a square moving across."""
    width, height = CLIP_SIZE
    photo = cv2.resize(cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR), CLIP_SIZE)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, CLIP_SIZE)
    for i in range(frames):
        frame = photo.copy()
        cv2.circle(frame, (40 + i * (width - 80) // frames, height // 3), 48, (20, 20, 230), -1)
        left = width - 120 - i * (width - 160) // frames
        cv2.rectangle(frame, (left, height // 2), (left + 100, height // 2 + 80), (20, 220, 20), -1)
        writer.write(frame)
    writer.release()
    return path


def runtime_models(
    model: nn.Module, cfg: Config, runtimes: list[str], folder: Path, frame: np.ndarray
) -> dict[str, Any]:
    """``{'eager': model, runtime name: the model exported for it and loaded with init_model}``."""
    models: dict[str, Any] = {"eager": model}
    sample = prepare_image(frame, build_test_pipeline(cfg))["inputs"].float()
    size = tuple(sample.shape[-2:])
    if {"onnxruntime", "openvino", "int8"} & set(runtimes):
        export_onnx(copy.deepcopy(model), folder / "model.onnx", size)
    if "onnxruntime" in runtimes:
        models["onnxruntime"] = init_model(cfg, str(folder / "model.onnx"))
    if "openvino" in runtimes:
        models["openvino"] = init_model(cfg, str(folder / "model.onnx"), runtime="openvino")
    if "int8" in runtimes:
        meta = models.get("onnxruntime") or init_model(cfg, str(folder / "model.onnx"))
        calibration = [pad_stack([sample], meta.meta["pad_pixel"], meta.meta["pad_size_divisor"]).numpy()]
        quantize_onnx(folder / "model.onnx", folder / "model.int8.onnx", calibration)
        models["int8 (onnxruntime)"] = init_model(cfg, str(folder / "model.int8.onnx"))
    if "executorch" in runtimes:
        from visionkit.deploy.executorch_export import export_executorch

        export_executorch(copy.deepcopy(model), folder / "model.pte", size)
        models["executorch"] = init_model(cfg, str(folder / "model.pte"))
    return models


def measure(
    models: dict[str, Any], clip: Path, rounds: int, out: Path, log: Callable[[str], None] = print
) -> dict[tuple[str, bool], list[float]]:
    """{(runtime, overlapped): frames/s of each round}: the whole clip, annotated video written."""
    view = View(score_thr=0.3, legend_inside=True)
    fps: dict[tuple[str, bool], list[float]] = {(n, o): [] for n in models for o in (False, True)}
    for model in models.values():  # warm-up: first-call costs (allocations, graph compiles)
        annotate_video(model, VideoFileSource(clip), view, VideoOutputs(video=out), max_frames=5)
    for round_index in range(rounds):
        for (name, overlap), values in fps.items():
            source = VideoFileSource(clip)
            stats = annotate_video(models[name], source, view, VideoOutputs(video=out), overlap=overlap)
            values.append(stats.fps)
            mode = "overlapped" if overlap else "sequential"
            log(f"round {round_index + 1}/{rounds} {name} {mode}: {stats.summary()}")
    return fps


def format_table(task: str, fps: dict[tuple[str, bool], list[float]]) -> str:
    """A markdown table: per runtime, frames/s one after the other and overlapped (median, min-max), and
    the speed-up (median of the per-round ratios)."""
    lines = [
        "| task | runtime | sequential frames/s | overlapped frames/s | speed-up |",
        "|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(n for n, _ in fps):
        seq, over = fps[(name, False)], fps[(name, True)]
        ratios = [o / s for o, s in zip(over, seq, strict=True)]
        lines.append(
            f"| {task} | {name} | {statistics.median(seq):.1f} ({min(seq):.1f}-{max(seq):.1f}) | "
            f"{statistics.median(over):.1f} ({min(over):.1f}-{max(over):.1f}) | "
            f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}) |"
        )
    return "\n".join(lines)


def benchmark_video(
    model: nn.Module, cfg: Config, task: str, runtimes: list[str], frames: int, rounds: int
) -> str:
    """Export ``model`` for ``runtimes``, time the pipeline on a ``frames``-frame clip; the table."""
    with tempfile.TemporaryDirectory(prefix="visionkit_video_benchmark_") as name:
        folder = Path(name)
        clip = write_clip(folder / "clip.mp4", frames)
        first = next(iter(VideoFileSource(clip))).image
        models = runtime_models(model, cfg, runtimes, folder, first)
        return format_table(task, measure(models, clip, rounds, folder / "annotated.mp4"))
