"""Video clips made for the tests with OpenCV: shapes moving over a real photo, in a real container."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from skimage import data as skimage_data


def moving_shapes(count: int, size: tuple[int, int] = (640, 480)) -> list[np.ndarray]:
    """``count`` (H, W, 3) uint8 RGB frames: scikit-image's astronaut resized to ``size`` (width, height),
    a red disc moving right and a green square moving left, so every frame differs from the others."""
    width, height = size
    photo = cv2.resize(skimage_data.astronaut(), (width, height), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(count):
        frame = photo.copy()
        x = width // 10 + i * width // (2 * count)
        cv2.circle(frame, (x, height // 3), height // 10, (230, 20, 20), -1)
        left = width * 3 // 4 - i * width // (2 * count)
        cv2.rectangle(
            frame, (left, height // 2), (left + width // 6, height // 2 + height // 6), (20, 220, 20), -1
        )
        frames.append(frame)
    return frames


def write_clip(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    """RGB frames as a video file; the codec from the suffix (.avi: Motion JPEG, .mp4: MPEG-4 part 2)."""
    fourcc = {".avi": "MJPG", ".mp4": "mp4v", ".mkv": "MJPG"}[path.suffix]
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def decoded_frames(path: Path) -> list[np.ndarray]:
    """Every frame OpenCV decodes from ``path``, as RGB."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    capture.release()
    return frames


def video_properties(path: Path) -> tuple[int, float, int, int]:
    """(frame count from the header, frames per second, width, height) as OpenCV reads them."""
    capture = cv2.VideoCapture(str(path))
    try:
        return (
            int(capture.get(cv2.CAP_PROP_FRAME_COUNT)),
            capture.get(cv2.CAP_PROP_FPS),
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
    finally:
        capture.release()


def truncate(path: Path, out: Path, fraction: float) -> Path:
    """The first ``fraction`` of ``path``'s bytes, as a crash or a failed copy leaves it."""
    content = path.read_bytes()
    out.write_bytes(content[: int(len(content) * fraction)])
    return out
