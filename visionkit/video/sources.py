"""Where video frames come from: a video file or images read as frames (the finite sources); cameras and
streams are in :mod:`.capture`.

A source yields :class:`Frame` objects in order and says how the output video should be written (``fps``,
``frame_count`` when known). Errors are :class:`VideoSourceError`, whose message names the file, camera or
stream and, where a source broke part way, the frame: the frames before it have been yielded, so a caller
that wrote them keeps them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from ..datasets.transforms import read_image

#: The frame rate of an output video when the source does not give a usable one (ultralytics' default too).
DEFAULT_FPS = 30.0


class VideoSourceError(OSError):
    """A video, camera, stream or frame image that cannot be read (the message says which and where)."""


@dataclass(frozen=True)
class Frame:
    """One frame: ``index`` from 0, ``time`` in seconds from the start, ``image`` (H, W, 3) uint8 RGB."""

    index: int
    time: float
    image: np.ndarray


def usable_fps(reported: float, default: float = DEFAULT_FPS) -> float:
    """The frame rate a capture reports if it is one (finite, above 0, at most 1000), else ``default``:
    cameras and some streams report 0 or nonsense."""
    return float(reported) if math.isfinite(reported) and 0 < reported <= 1000 else default


def frame_time(index: int, fps: float, position_ms: float | None = None) -> float:
    """Seconds from the start to frame ``index``: the decoder's position for the frame when it reports one
    (``position_ms`` > 0; right for variable frame rates), else ``index / fps``."""
    if position_ms is not None and position_ms > 0:
        return position_ms / 1000.0
    return index / fps


def capture_rate_and_count(capture: Any) -> tuple[float, int | None]:
    """An opened ``cv2.VideoCapture``'s (usable frame rate, frame count or None when it does not know)."""
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return usable_fps(capture.get(cv2.CAP_PROP_FPS)), count if count > 0 else None


class FrameSource:
    """Frames in order (iterate once), and what the output video needs.

    Attributes: ``label`` (the source in messages), ``fps`` (frames per second of the output video),
    ``frame_count`` (frames the source says it has, or None: cameras, streams), ``live`` (frames arrive in
    real time and time stamps are wall-clock).
    """

    live: ClassVar[bool] = False
    label: str = ""
    fps: float = DEFAULT_FPS
    frame_count: int | None = None

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError


class VideoFileSource(FrameSource):
    """The frames of a video file (any container and codec OpenCV's FFmpeg decodes: mp4, avi, mov, mkv...).

    Opening a file OpenCV cannot decode raises :class:`VideoSourceError` at once. A file that ends before the
    frame count its header gives (cut short, or corrupt from some frame on) yields every frame it can decode,
    then raises :class:`VideoSourceError` naming the file and the frame where it broke.
    """

    def __init__(self, path: str | Path, open_capture: Callable[[str], Any] = cv2.VideoCapture) -> None:
        self.path = Path(path)
        self.label = f"video '{self.path}'"
        if not self.path.is_file():
            raise VideoSourceError(f"Video '{self.path}' not found")
        self.capture = open_capture(str(self.path))
        if not self.capture.isOpened():
            raise VideoSourceError(
                f"Cannot open video '{self.path}': not a video OpenCV can decode, or cut short (an MP4 or "
                "MOV keeps its index at the end, so one cut short cannot be opened at all)"
            )
        self.fps, self.frame_count = capture_rate_and_count(self.capture)

    def __iter__(self) -> Iterator[Frame]:
        index = 0
        try:
            while True:
                ok, image = self.capture.read()
                if not ok:
                    break
                position = self.capture.get(cv2.CAP_PROP_POS_MSEC)
                yield Frame(
                    index, frame_time(index, self.fps, position), cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
                )
                index += 1
        finally:
            self.capture.release()
        if index == 0:
            raise VideoSourceError(f"Video '{self.path}' has no frame OpenCV can decode (empty or corrupt)")
        if self.frame_count is not None and index < self.frame_count:
            raise VideoSourceError(
                f"Video '{self.path}' broke at frame {index} of the {self.frame_count} its header lists: the "
                f"file is truncated or corrupt from there (frames 0-{index - 1} were read)"
            )


class ImageSequenceSource(FrameSource):
    """Image files as the frames of one video, in the order given, at ``fps`` frames per second."""

    def __init__(self, paths: Sequence[Path], fps: float = DEFAULT_FPS, label: str = "images") -> None:
        if not paths:
            raise VideoSourceError(f"No images to read as frames in {label}")
        self.paths, self.fps, self.label = list(paths), usable_fps(fps), label
        self.frame_count = len(self.paths)

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            try:
                image = read_image(str(path))
            except OSError as error:
                raise VideoSourceError(f"Frame {index} of {self.label}: {error}") from None
            yield Frame(index, index / self.fps, image)
