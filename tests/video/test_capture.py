"""Cameras and streams: a camera that does not open is named; a stream that drops is reopened a bounded
number of times (a fake capture stands in for OpenCV's)."""

from __future__ import annotations

import numpy as np
import pytest

from visionkit.video import LiveSource, ReconnectPolicy, StreamLostError, VideoSourceError, redact_url


class FakeCapture:
    """Delivers ``frames`` frames, then fails every read; opened unless ``opens`` is False."""

    def __init__(self, frames: int, opens: bool = True) -> None:
        self.frames, self.opens, self.read_count = frames, opens, 0

    def isOpened(self) -> bool:  # OpenCV's name
        return self.opens

    def read(self):
        if self.read_count >= self.frames:
            return False, None
        self.read_count += 1
        return True, np.full((4, 4, 3), self.read_count, np.uint8)

    def get(self, prop: int) -> float:
        return 0.0

    def release(self) -> None:
        pass


class Opener:
    """Hands out the captures of ``plan`` in turn, one per (re)connection."""

    def __init__(self, *plan: FakeCapture) -> None:
        self.plan, self.targets = list(plan), []

    def __call__(self, target):
        self.targets.append(target)
        return self.plan.pop(0)


def test_policy_delays_grow_and_are_capped():
    assert ReconnectPolicy(attempts=4, delay_s=1.0, backoff=3.0, max_delay_s=5.0).delays() == [1, 3, 5, 5]
    assert ReconnectPolicy(attempts=0).delays() == []


def test_a_stream_that_drops_is_reopened_and_the_budget_starts_again_after_a_frame():
    # 3 frames; drop; one failed reopening; 2 frames; drop; three failed reopenings: lost.
    opener = Opener(
        FakeCapture(3), FakeCapture(0, opens=False), FakeCapture(2), *[FakeCapture(0, opens=False)] * 3
    )
    slept = []
    source = LiveSource(
        "rtsp://cam/live", ReconnectPolicy(3, 0.5, 2.0), opener, slept.append, iter(range(100)).__next__
    )
    got = []
    with pytest.raises(
        StreamLostError, match=r"stream 'rtsp://cam/live' stopped after 5 frames .*3 reconnect"
    ):
        got.extend(source)
    assert [f.index for f in got] == list(range(5))
    assert [int(f.image[0, 0, 0]) for f in got] == [1, 2, 3, 1, 2]  # the second capture's frames
    assert [f.time for f in got] == [0, 1, 2, 3, 4]  # wall clock from the first frame
    assert slept == [0.5, 1.0, 0.5, 1.0, 2.0]  # 2 waits, a frame came, then the full budget of 3
    assert opener.targets == ["rtsp://cam/live"] * 6 and not opener.plan


def test_a_stream_that_never_opens_gives_up_after_the_policy():
    opener = Opener(*[FakeCapture(0, opens=False)] * 3)
    slept = []
    with pytest.raises(StreamLostError, match=r"could not be opened \(3 tries\)"):
        LiveSource("http://user:pw@host/feed", ReconnectPolicy(2, 1.0), opener, slept.append)
    assert slept == [1.0, 2.0]


def test_a_camera_that_does_not_open_says_which_index():
    with pytest.raises(VideoSourceError, match="Camera 3 could not be opened"):
        LiveSource(3, ReconnectPolicy(), Opener(FakeCapture(0, opens=False)), lambda s: None)


def test_passwords_are_left_out_of_messages():
    assert redact_url("rtsp://admin:s3cr:et@10.0.0.2:554/x") == "rtsp://admin:***@10.0.0.2:554/x"
    assert redact_url("http://host/a:b@c") == "http://host/a:b@c"  # not a user part
    assert redact_url("rtsp://host/live") == "rtsp://host/live"
