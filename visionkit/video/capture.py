"""Live sources: a camera (by index) or a network stream (RTSP, RTMP, HTTP...) through OpenCV's
``VideoCapture``, with a bounded reconnect when the stream drops."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
from mmengine.logging import print_log

from .sources import Frame, FrameSource, VideoSourceError, capture_rate_and_count


class StreamLostError(VideoSourceError):
    """A camera or stream stopped delivering frames and did not come back within the reconnect policy."""


@dataclass(frozen=True)
class ReconnectPolicy:
    """How often and how patiently to reopen a source that stopped delivering frames.

    ``attempts`` reopenings at most between two frames (the count starts again once a frame arrives), the
    first after ``delay_s`` seconds, each next one ``backoff`` times later, never more than ``max_delay_s``.
    """

    attempts: int = 3
    delay_s: float = 1.0
    backoff: float = 2.0
    max_delay_s: float = 10.0

    def delays(self) -> list[float]:
        """The wait in seconds before each attempt."""
        return [min(self.delay_s * self.backoff**i, self.max_delay_s) for i in range(self.attempts)]


def redact_url(url: str) -> str:
    """``url`` without the password of its user part (``rtsp://user:secret@host`` -> ``rtsp://user:***@host``),
    for messages and file names."""
    return re.sub(r"(//[^/:@]*):[^/@]*@", r"\1:***@", url)


class LiveSource(FrameSource):
    """Frames of a camera (``target`` an int index) or a stream (a URL), time stamped by the wall clock from
    the first frame.

    A camera that does not open raises :class:`VideoSourceError` naming its index. A stream that does not
    open, or a camera or stream that stops delivering, is reopened as ``policy`` says; when that fails,
    :class:`StreamLostError` (after the frames that came). A stream that reports a frame count (a video file
    served over HTTP) ends without error once that many frames came.

    ``open_capture``, ``sleep`` and ``clock`` are OpenCV's ``VideoCapture``, ``time.sleep`` and
    ``time.monotonic`` unless a test gives others.
    """

    live = True

    def __init__(
        self,
        target: int | str,
        policy: ReconnectPolicy | None = None,
        open_capture: Callable[[int | str], Any] = cv2.VideoCapture,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.target, self.policy = target, policy or ReconnectPolicy()
        self._open_capture, self._sleep, self._clock = open_capture, sleep, clock
        self._attempts_used = 0
        is_camera = isinstance(target, int)
        self.label = f"camera {target}" if is_camera else f"stream '{redact_url(str(target))}'"
        self.capture = self._open()
        if self.capture is None and is_camera:
            raise VideoSourceError(
                f"Camera {target} could not be opened: no camera with that index, or it is in use (on Linux "
                "the cameras are /dev/video*; try another index)"
            )
        if self.capture is None and not self._reopen():
            raise StreamLostError(
                f"The {self.label} could not be opened ({1 + self.policy.attempts} tries): check the URL, "
                "that the server is up, and that OpenCV's FFmpeg reads the protocol"
            )
        self.fps, self.frame_count = capture_rate_and_count(self.capture)

    def _open(self) -> Any | None:
        capture = self._open_capture(self.target)
        if capture.isOpened():
            return capture
        capture.release()
        return None

    def _reopen(self) -> bool:
        """Reopen after the policy's waits, spending what is left of its attempts since the last frame;
        True once a capture opens."""
        delays = self.policy.delays()
        while self._attempts_used < len(delays):
            self._sleep(delays[self._attempts_used])
            self._attempts_used += 1
            print_log(
                f"{self.label}: reconnecting ({self._attempts_used}/{self.policy.attempts})",
                logger="current",
                level=logging.WARNING,
            )
            capture = self._open()
            if capture is not None:
                self.capture = capture
                return True
        return False

    def __iter__(self) -> Iterator[Frame]:
        index, start = 0, None
        try:
            while True:
                ok, image = self.capture.read()
                if ok:
                    now = self._clock()
                    start = now if start is None else start
                    yield Frame(index, now - start, cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
                    index, self._attempts_used = index + 1, 0
                    continue
                if self.frame_count is not None and index >= self.frame_count:
                    return
                self.capture.release()
                if not self._reopen():
                    raise StreamLostError(
                        f"The {self.label} stopped after {index} frames and did not come back "
                        f"({self.policy.attempts} reconnect attempts)"
                    )
        finally:
            self.capture.release()
