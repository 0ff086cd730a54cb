"""tools/infer.py mirrors the inputs' relative paths and never overwrites an input or its own outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from visionkit.apis import init_model

from .run_tool import REPO, load_tool

CONFIG = str(REPO / "configs" / "deeplabv3lite_mnv2_toy.py")
infer = load_tool("infer")


def _image(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (40, 30), (90, 120, 30)).save(path)
    return path


def test_same_names_in_different_folders_get_mirrored_outputs(tmp_path):
    images = [_image(tmp_path / "in" / "a" / "x.jpg"), _image(tmp_path / "in" / "b" / "x.jpg")]
    out = tmp_path / "out"
    assert infer.output_stems(images, out) == [out / "a" / "x", out / "b" / "x"]
    assert infer.output_stems(images[:1], out) == [out / "x"]  # one folder: flat, as before


@pytest.mark.parametrize(
    ("names", "out_is_input_dir", "problem"),
    [
        (["photo.jpg", "photo.png"], True, "photo.png (an output of"),
        (["x.jpg", "x.png"], False, "would be written for both"),
        (["shot.jpg", "shot_overlay.jpg"], True, "shot_overlay.jpg (an output of"),
    ],
    ids=["mask-over-input", "same-stem", "overlay-over-input"],
)
def test_outputs_that_would_overwrite_are_refused_before_anything_runs(
    tmp_path, names, out_is_input_dir, problem
):
    images = [_image(tmp_path / "in" / n) for n in names]
    out = tmp_path / "in" if out_is_input_dir else tmp_path / "out"
    with pytest.raises(SystemExit, match="refusing to overwrite files") as error:
        infer.output_stems(images, out)
    assert problem in str(error.value)


def test_a_run_with_out_dir_equal_to_the_input_folder_keeps_every_input(tmp_path):
    torch.manual_seed(0)
    checkpoint = tmp_path / "seg.pth"
    torch.save({"state_dict": init_model(CONFIG).state_dict(), "meta": {}}, checkpoint)
    folder = tmp_path / "photos"
    for sub in ("a", "b"):
        _image(folder / sub / "x.jpg")
    inputs = sorted(folder.rglob("*.jpg"))
    before = {p: p.read_bytes() for p in inputs}
    infer.main([CONFIG, str(checkpoint), str(folder / "a"), str(folder / "b"), "--out-dir", str(folder)])
    assert {p: p.read_bytes() for p in inputs} == before
    for sub in ("a", "b"):
        assert Image.open(folder / sub / "x.png").size == (40, 30)
        assert (folder / sub / "x_overlay.jpg").is_file()
    records = json.loads((folder / "predictions.json").read_text())
    assert [r["segmentation"]["mask"] for r in records] == [str(folder / s / "x.png") for s in ("a", "b")]


def test_a_video_whose_output_would_be_itself_is_refused(tmp_path):
    """clip.mp4 annotated into its own folder would be written over itself; a folder read as a video and a
    video of the folder's name would share outputs."""
    from visionkit.video import VideoInput

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"x")
    with pytest.raises(SystemExit, match=r"clip\.mp4 \(an output of .*clip\.mp4\) is an input"):
        infer.output_stems([], tmp_path, [VideoInput("file", str(clip))], ".mp4")
    assert infer.output_stems([], tmp_path / "out", [VideoInput("file", str(clip))]) == [
        tmp_path / "out" / "clip"
    ]
    frames = (_image(tmp_path / "walk" / "0.jpg"),)
    both = [
        VideoInput("images", str(tmp_path / "walk"), frames),
        VideoInput("file", str(tmp_path / "walk.avi")),
    ]
    with pytest.raises(SystemExit, match="would be written for both"):
        infer.output_stems([], tmp_path / "out", both, ".mp4")
