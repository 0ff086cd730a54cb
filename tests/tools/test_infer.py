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

from ..bn_statistics import calibrate_batchnorm, randomise_batchnorm
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


@pytest.mark.slow
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


@pytest.mark.slow
def test_detection_draws_boxes_and_lists_them(tmp_path: Path, astronaut_voc: Path) -> None:
    checkpoint = save_checkpoint("configs/ssdlite_mnv2_toy.py", tmp_path / "det.pth")
    out = tmp_path / "out"
    image = astronaut_voc / "JPEGImages" / "astronaut.jpg"
    result = run_tool(
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
    counts = {}
    for detection in detections:
        counts[detection["label"]] = counts.get(detection["label"], 0) + 1
    said = result.stdout.split(f"{image}: ", 1)[1].splitlines()[0]
    assert {part.split(" ", 1)[1]: int(part.split(" ")[0]) for part in said.split(", ")} == counts


@pytest.mark.slow
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


@pytest.mark.slow
def test_deploy_folds_batchnorm_and_keeps_the_scores(tmp_path: Path, astronaut_voc: Path) -> None:
    """--deploy: the same top-k (to rounding) from a model with trained-like BN, and the fusion logged."""
    model = calibrate_batchnorm(
        randomise_batchnorm(init_model(str(REPO / "configs/mobilenet_v2_toy.py"))), (96, 96)
    )
    checkpoint = tmp_path / "cls.pth"
    torch.save({"state_dict": model.state_dict(), "meta": {}}, checkpoint)
    folder = astronaut_voc / "JPEGImages"
    tops = []
    for extra in ([], ["--deploy"]):
        out = tmp_path / f"out{len(extra)}"
        result = run_tool(
            "infer.py", "configs/mobilenet_v2_toy.py", str(checkpoint), str(folder), "--out-dir", str(out),
            "--topk", "4", *extra,
        )  # fmt: skip
        assert ("folded 52 BatchNorm2d" in result.stdout + result.stderr) == bool(extra)
        [record] = json.loads((out / "predictions.json").read_text())
        tops.append({item["label"]: item["score"] for item in record["classification"]})
    assert max(tops[0].values()) - min(tops[0].values()) > 0.01  # the scores are not all equal
    assert tops[1].keys() == tops[0].keys()
    assert all(abs(tops[1][label] - score) < 1e-4 for label, score in tops[0].items())


def test_prepare_image_refuses_arrays_that_are_not_uint8_rgb() -> None:
    from visionkit.apis.inference import prepare_image

    for array in (np.zeros((8, 8, 3), np.float32), np.zeros((8, 8), np.uint8), np.zeros((8, 8, 4), np.uint8)):
        with pytest.raises(ValueError, match=r"image arrays must be \(H, W, 3\) uint8 RGB, got"):
            prepare_image(array, [])


def test_pil_images_and_bgr_arrays_give_the_rgb_arrays_prediction(tmp_path) -> None:
    """One photo as a path, an RGB array, a PIL image and (channel_order="bgr") a cv2-order array."""
    from visionkit.apis import inference_model

    model = calibrate_batchnorm(
        randomise_batchnorm(init_model(str(REPO / "configs/mobilenet_v2_toy.py"))), (96, 96)
    )
    rgb = np.random.default_rng(0).integers(0, 255, (96, 96, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "photo.png")
    scores = [
        s.pred_score
        for s in inference_model(model, [tmp_path / "photo.png", rgb, Image.fromarray(rgb)])
        + inference_model(model, rgb[..., ::-1].copy(), channel_order="bgr")
    ]
    assert all(torch.allclose(scores[0], s, atol=1e-6) for s in scores[1:])
    swapped = inference_model(model, rgb[..., ::-1].copy())[0].pred_score  # BGR read as RGB: differs
    assert not torch.allclose(scores[0], swapped, atol=1e-4)
