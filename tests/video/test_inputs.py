"""What tools/infer.py makes of its inputs: cameras, streams, folders, patterns, videos and images."""

from __future__ import annotations

from pathlib import Path

import pytest

from visionkit.video import VideoInput, collect_inputs
from visionkit.video.inputs import _fixed_part


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_each_kind_of_input_is_recognised(tmp_path):
    photo = _touch(tmp_path / "photo.JPG")
    clip = _touch(tmp_path / "clips" / "clip.MKV")
    images, videos = collect_inputs(["0", "rtsp://user:secret@cam.local:554/live/ch1", str(photo), str(clip)])
    assert images == [photo]
    assert [(v.kind, v.location) for v in videos] == [
        ("camera", "0"),
        ("stream", "rtsp://user:secret@cam.local:554/live/ch1"),
        ("file", str(clip)),
    ]
    assert videos[0].name == "camera0" and videos[0].path is None
    assert videos[1].name == "cam.local_554_live_ch1"  # no user name or password in a file name
    assert videos[2].path == clip


def test_a_folder_gives_its_images_in_order_and_each_video(tmp_path):
    frames = [_touch(tmp_path / "shots" / f"{i:03d}.png") for i in (2, 0, 1)]
    clip = _touch(tmp_path / "shots" / "walk.mp4")
    _touch(tmp_path / "shots" / "notes.txt")
    images, videos = collect_inputs([str(tmp_path / "shots")])
    assert images == sorted(frames) and videos == [VideoInput("file", str(clip))]

    images, videos = collect_inputs([str(tmp_path / "shots")], as_video=True)
    assert images == [] and [v.kind for v in videos] == ["images", "file"]
    assert videos[0].frames == tuple(sorted(frames)) and videos[0].path == tmp_path / "shots"


def test_a_glob_pattern_is_expanded_and_named_after_its_fixed_folders(tmp_path):
    for name in ("a_1.jpg", "a_2.jpg", "b_1.jpg"):
        _touch(tmp_path / "run" / name)
    pattern = str(tmp_path / "run" / "a_*.jpg")
    images, _ = collect_inputs([pattern])
    assert [p.name for p in images] == ["a_1.jpg", "a_2.jpg"]
    _, [video] = collect_inputs([pattern], as_video=True)
    assert video.path == tmp_path / "run" and len(video.frames) == 2
    assert _fixed_part("shots/*/x?.jpg") == Path("shots") and _fixed_part("*.jpg") == Path(".")


def test_a_camera_index_that_is_a_file_name_is_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _touch(tmp_path / "7")
    images, videos = collect_inputs(["7"])
    assert images == [Path("7")] and videos == []


@pytest.mark.parametrize(
    ("text", "message"),
    [("missing.mp4", "is not an image or video file"), ("nothing/*.jpg", "No files match the pattern")],
)
def test_unknown_inputs_are_named(tmp_path, monkeypatch, text, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message) as error:
        collect_inputs([text])
    assert text in str(error.value)
