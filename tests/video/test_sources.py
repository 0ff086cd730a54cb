"""Video files and image folders as frame sources: timing, counts, and errors that name the file and frame."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from visionkit.video import ImageSequenceSource, VideoFileSource, VideoSourceError, frame_time, usable_fps

from .clips import moving_shapes, truncate, write_clip


def test_frame_time_uses_the_decoders_position_else_the_index():
    assert frame_time(0, 25.0, 0.0) == 0.0
    assert frame_time(3, 25.0, 120.0) == pytest.approx(0.12)  # position reported: 120 ms
    assert frame_time(3, 25.0, 0.0) == pytest.approx(3 / 25)  # not reported (0): index / fps
    assert frame_time(3, 30000 / 1001) == pytest.approx(0.1001)  # NTSC 29.97 fps
    assert frame_time(5, 10.0, 480.0) == pytest.approx(0.48)  # a variable rate: the position wins


@pytest.mark.parametrize(("reported", "used"), [(25.0, 25.0), (0.0, 30.0), (math.nan, 30.0), (90000.0, 30.0)])
def test_usable_fps_replaces_what_cameras_report_when_they_know_nothing(reported, used):
    assert usable_fps(reported) == used


def test_a_video_file_gives_every_frame_in_order_with_its_time(tmp_path):
    frames = moving_shapes(6, (64, 48))
    clip = write_clip(tmp_path / "clip.avi", frames, fps=12.5)
    source = VideoFileSource(clip)
    assert (source.fps, source.frame_count) == (12.5, 6)
    got = list(source)
    assert [f.index for f in got] == list(range(6))
    assert [f.time for f in got] == pytest.approx([i / 12.5 for i in range(6)])
    # RGB, not OpenCV's BGR: the red disc stays red (Motion JPEG is lossy: compare loosely).
    assert all(np.abs(f.image.astype(int) - e).mean() < 8 for f, e in zip(got, frames, strict=True))
    assert got[0].image[16, 6:10, 0].mean() > 150 > got[0].image[16, 6:10, 2].mean()


def test_a_truncated_video_yields_what_it_can_then_names_the_file_and_frame(tmp_path):
    clip = write_clip(tmp_path / "clip.avi", moving_shapes(10, (64, 48)))
    cut = truncate(clip, tmp_path / "cut.avi", 0.5)
    source = VideoFileSource(cut)
    got = []
    with pytest.raises(VideoSourceError, match=r"broke at frame (\d+) of the 10") as error:
        got.extend(source)
    assert str(cut) in str(error.value)
    assert 0 < len(got) < 10 and f"broke at frame {len(got)} " in str(error.value)


def test_an_mp4_cut_short_cannot_be_opened_and_says_which_file(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", moving_shapes(4, (64, 48)))
    cut = truncate(clip, tmp_path / "cut.mp4", 0.8)
    with pytest.raises(VideoSourceError, match=r"Cannot open video .*cut\.mp4.*cut short"):
        VideoFileSource(cut)
    with pytest.raises(VideoSourceError, match="not found"):
        VideoFileSource(tmp_path / "none.mp4")


def test_images_as_frames_keep_their_order_and_name_a_broken_one(tmp_path):
    paths = []
    for i, frame in enumerate(moving_shapes(3, (32, 24))):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(frame).save(paths[-1])
    paths[2].write_bytes(b"not a png")
    source = ImageSequenceSource(paths, fps=10.0, label="the images of 'shots'")
    got = []
    with pytest.raises(
        VideoSourceError, match=r"Frame 2 of the images of 'shots': Cannot read image .*2\.png"
    ):
        got.extend(source)
    assert [f.time for f in got] == [0.0, 0.1]
    np.testing.assert_array_equal(got[1].image, np.asarray(Image.open(paths[1])))
