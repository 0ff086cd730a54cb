"""tools/infer.py on a real photo for every task: the files it writes and what is in them."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skimage_data

from visionkit.apis import init_model
from visionkit.datasets.voc_palette import voc_palette

from .run_tool import REPO, run_tool


def save_checkpoint(config: str, path: Path) -> str:
    """A checkpoint of the config's model with its initial weights, in the Runner's layout."""
    torch.manual_seed(0)
    model = init_model(str(REPO / config))
    torch.save({"state_dict": model.state_dict(), "meta": {}}, path)
    return str(path)


@pytest.fixture
def astronaut_voc(tmp_path: Path) -> Path:
    """A VOC-layout folder holding scikit-image's astronaut, cropped to 400x300, and a split file."""
    root = tmp_path / "VOC2012"
    (root / "JPEGImages").mkdir(parents=True)
    (root / "ImageSets" / "Segmentation").mkdir(parents=True)
    Image.fromarray(skimage_data.astronaut()[:400, :300]).save(root / "JPEGImages" / "astronaut.jpg")
    (root / "ImageSets" / "Segmentation" / "val.txt").write_text("astronaut\n")
    return root


def test_segmentation_writes_voc_palette_png_of_the_input_size_and_an_overlay(
    tmp_path: Path, astronaut_voc: Path
) -> None:
    checkpoint = save_checkpoint("configs/deeplabv3lite_mnv2_toy.py", tmp_path / "seg.pth")
    out = tmp_path / "out"
    split = astronaut_voc / "ImageSets" / "Segmentation" / "val.txt"
    run_tool("infer.py", "configs/deeplabv3lite_mnv2_toy.py", checkpoint, str(split), "--out-dir", str(out))

    mask = Image.open(out / "astronaut.png")
    assert mask.mode == "P" and mask.size == (300, 400)
    labels = np.asarray(mask)
    assert labels.max() < 5  # the toy config's 5 classes
    palette = np.asarray(mask.getpalette()[: 5 * 3]).reshape(5, 3)
    np.testing.assert_array_equal(palette, voc_palette()[:5])
    overlay = Image.open(out / "astronaut_overlay.jpg")
    assert overlay.height >= 400 and overlay.width >= 300

    [record] = json.loads((out / "predictions.json").read_text())
    counts = record["segmentation"]["pixels_per_class"]
    assert sum(counts.values()) == 400 * 300
    names = ("background", "circle", "square", "star", "triangle")
    assert counts == {names[c]: int((labels == c).sum()) for c in np.unique(labels)}


def test_detection_draws_boxes_and_lists_them(tmp_path: Path, astronaut_voc: Path) -> None:
    checkpoint = save_checkpoint("configs/ssdlite_mnv2_toy.py", tmp_path / "det.pth")
    out = tmp_path / "out"
    image = astronaut_voc / "JPEGImages" / "astronaut.jpg"
    run_tool(
        "infer.py", "configs/ssdlite_mnv2_toy.py", checkpoint, str(image), "--out-dir", str(out),
        "--score-thr", "0.0",
    )  # fmt: skip
    assert Image.open(out / "astronaut_detections.jpg").size == (300, 400)
    [record] = json.loads((out / "predictions.json").read_text())
    detections = record["detections"]
    assert detections, "an untrained SSDLite at score threshold 0 still keeps its top boxes"
    for detection in detections:
        x1, y1, x2, y2 = detection["bbox_xyxy"]
        assert 0 <= x1 <= x2 <= 300 and 0 <= y1 <= y2 <= 400
        assert 0.0 <= detection["score"] <= 1.0


def test_classification_prints_top_k_with_class_names(tmp_path: Path, astronaut_voc: Path) -> None:
    checkpoint = save_checkpoint("configs/mobilenet_v2_toy.py", tmp_path / "cls.pth")
    out = tmp_path / "out"
    folder = astronaut_voc / "JPEGImages"
    result = run_tool(
        "infer.py",
        "configs/mobilenet_v2_toy.py",
        checkpoint,
        str(folder),
        "--out-dir",
        str(out),
        "--topk",
        "2",
    )
    [record] = json.loads((out / "predictions.json").read_text())
    top = record["classification"]
    assert len(top) == 2 and top[0]["score"] >= top[1]["score"]
    assert f"{top[0]['label']} {top[0]['score']:.3f}" in result.stdout
