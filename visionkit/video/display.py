"""A live window showing the annotated frames where a display exists (``tools/infer.py --show``)."""

from __future__ import annotations

import logging
import os
import sys

import cv2
import numpy as np
from mmengine.logging import print_log

_QUIT_KEYS = (ord("q"), 27)  # q, Esc


def display_problem() -> str | None:
    """Why no window can be shown here, or None: no display on Linux, or an OpenCV built without a GUI
    (``opencv-python-headless``)."""
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return "no display (DISPLAY is not set)"
    gui = [line for line in cv2.getBuildInformation().splitlines() if line.strip().startswith("GUI:")]
    if gui and gui[0].split(":", 1)[1].strip().upper() in ("NONE", "NO", ""):
        return "this OpenCV has no GUI (opencv-python-headless); pip install opencv-python for windows"
    return None


class LiveWindow:
    """An OpenCV window titled ``title``; :meth:`show` returns False once the user pressed q or Esc (or
    closed the window). Where :func:`display_problem` finds none, a warning says why and nothing is shown."""

    def __init__(self, title: str) -> None:
        self.title = title
        problem = display_problem()
        if problem is not None:
            print_log(f"--show: no live window: {problem}", logger="current", level=logging.WARNING)
        self.enabled = problem is None
        self._opened = False

    def show(self, image: np.ndarray) -> bool:
        """Show one (H, W, 3) uint8 RGB frame; False when the user asked to stop."""
        if not self.enabled:
            return True
        if self._opened and cv2.getWindowProperty(self.title, cv2.WND_PROP_VISIBLE) < 1:
            return False  # closed with the mouse
        cv2.imshow(self.title, cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        self._opened = True
        return (cv2.waitKey(1) & 0xFF) not in _QUIT_KEYS

    def close(self) -> None:
        if self._opened:
            cv2.destroyWindow(self.title)
