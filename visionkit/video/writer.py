"""Writing annotated frames: a video file (codec chosen by its suffix) and per-frame records (JSON Lines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

# The codec for each container: what OpenCV's FFmpeg writes everywhere (there is no H.264 encoder in the
# pip wheels); webm's VP8 is what a browser plays.
FOURCC = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".avi": "MJPG", ".webm": "VP80"}


def fit_frame(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` (H, W, 3) scaled to fit ``size`` (width, height) with its aspect ratio kept, centred on
    black: frames of another size (images of mixed sizes read as frames) in a video of one size."""
    width, height = size
    if image.shape[1] == width and image.shape[0] == height:
        return image
    scale = min(width / image.shape[1], height / image.shape[0])
    new_w, new_h = max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale))
    canvas = np.zeros((height, width, 3), np.uint8)
    top, left = (height - new_h) // 2, (width - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = cv2.resize(
        image, (new_w, new_h), interpolation=cv2.INTER_AREA
    )
    return canvas


class VideoWriter:
    """Frames (H, W, 3) uint8 RGB into a video at ``fps``; the first frame sets its size.

    The file is complete (playable) after :meth:`close`, whatever happened before: callers close it in a
    ``finally``. ``OSError`` naming the file when OpenCV has no encoder for its suffix.
    """

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path, self.fps = Path(path), fps
        suffix = self.path.suffix.lower()
        if suffix not in FOURCC:
            raise ValueError(f"Cannot write video '{path}': choose one of {', '.join(FOURCC)}")
        self.fourcc = FOURCC[suffix]
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self._writer: Any = None

    def write(self, image: np.ndarray) -> None:
        if self._writer is None:
            self.size = (image.shape[1], image.shape[0])
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = cv2.VideoWriter(
                str(self.path), cv2.VideoWriter_fourcc(*self.fourcc), self.fps, self.size
            )
            if not self._writer.isOpened():
                raise OSError(
                    f"Cannot write video '{self.path}': OpenCV has no '{self.fourcc}' encoder for "
                    f"{self.path.suffix}; choose .mp4 or .avi"
                )
        self._writer.write(cv2.cvtColor(fit_frame(image, self.size), cv2.COLOR_RGB2BGR))
        self.frames += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()


class RecordWriter:
    """One JSON object per line, flushed as written, so the records of every frame written so far survive
    whatever stops the run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w")

    def write(self, record: dict[str, Any]) -> None:
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines file (:class:`RecordWriter`)."""
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]
