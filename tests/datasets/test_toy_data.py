"""Tests for the toy data generators: real on-disk layouts, annotation correctness and determinism."""

import contextlib
import importlib.util
import io
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from visionkit.datasets.toy_data import (
    TOY_CLASSES,
    make_classification_set,
    make_coco_detection_set,
    make_voc_segmentation_set,
)
from visionkit.datasets.toy_data.classification import draw_classification_image
from visionkit.datasets.toy_data.shapes import sample_rng
from visionkit.datasets.voc_palette import voc_palette

REPO_ROOT = Path(__file__).resolve().parents[2]
CLS_KWARGS = {"num_train_per_class": 3, "num_val_per_class": 3, "image_size": 64, "seed": 0}
COCO_KWARGS = {"num_train": 12, "num_val": 5, "seed": 0}
VOC_KWARGS = {"num_train": 6, "num_val": 3, "seed": 0}


@pytest.fixture(scope="module")
def cls_set(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return make_classification_set(tmp_path_factory.mktemp("cls"), **CLS_KWARGS)


@pytest.fixture(scope="module")
def coco_set(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return make_coco_detection_set(tmp_path_factory.mktemp("coco"), **COCO_KWARGS)


@pytest.fixture(scope="module")
def voc_set(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return make_voc_segmentation_set(tmp_path_factory.mktemp("voc"), **VOC_KWARGS)


def load_coco(ann_file: Path) -> COCO:
    with contextlib.redirect_stdout(io.StringIO()):  # COCO() prints progress
        return COCO(str(ann_file))


def read_lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def file_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_toy_classes_sorted_and_shared() -> None:
    assert TOY_CLASSES == tuple(sorted(TOY_CLASSES))
    assert len(TOY_CLASSES) >= 4


# --- classification (ImageNet layout) ---


def test_classification_layout(cls_set: dict) -> None:
    root = cls_set["root"]
    assert read_lines(root / "meta" / "classes.txt") == list(TOY_CLASSES)
    assert sorted(p.name for p in (root / "train").iterdir()) == list(TOY_CLASSES)
    train_lines = read_lines(root / "meta" / "train.txt")
    assert len(train_lines) == cls_set["num_train"] == 3 * len(TOY_CLASSES)
    for line in train_lines:
        relative, label = line.split(" ")
        class_name, file_name = relative.split("/")
        assert re.fullmatch(rf"{class_name}_\d+\.JPEG", file_name)
        assert TOY_CLASSES[int(label)] == class_name
        assert (root / "train" / relative).is_file()

    val_lines = read_lines(root / "meta" / "val.txt")
    assert len(val_lines) == cls_set["num_val"] == 3 * len(TOY_CLASSES)
    names = [line.split(" ")[0] for line in val_lines]
    assert names == [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(1, len(val_lines) + 1)]
    assert sorted(p.name for p in (root / "val").iterdir()) == names
    labels = [int(line.split(" ")[1]) for line in val_lines]
    assert sorted(labels) == sorted(list(range(len(TOY_CLASSES))) * 3)
    assert labels != sorted(labels), "val images should not be grouped by class"
    with Image.open(root / "val" / names[0]) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (64, 64))


def test_classification_labels_match_drawn_shape(cls_set: dict) -> None:
    # Re-draw each val image with every class from its own generator: the written label must be the
    # class whose drawing reproduces the stored JPEG.
    root = cls_set["root"]
    for index, line in enumerate(read_lines(root / "meta" / "val.txt")):
        file_name, label = line.split(" ")
        stored = np.asarray(Image.open(root / "val" / file_name), dtype=np.float32)
        errors = [
            np.abs(draw_classification_image(sample_rng(0, "val", index), name, 64) - stored).mean()
            for name in TOY_CLASSES
        ]
        assert int(np.argmin(errors)) == int(label)


def test_classification_deterministic(cls_set: dict, tmp_path: Path) -> None:
    again = make_classification_set(tmp_path / "same", **CLS_KWARGS)
    assert file_bytes(again["root"]) == file_bytes(cls_set["root"])
    other = make_classification_set(tmp_path / "other", **{**CLS_KWARGS, "seed": 1})
    assert file_bytes(other["val_dir"]) != file_bytes(cls_set["val_dir"])


# --- COCO detection ---


def test_coco_layout_and_format(coco_set: dict) -> None:
    root = coco_set["root"]
    ids_per_split = []
    for split, count in (("train", COCO_KWARGS["num_train"]), ("val", COCO_KWARGS["num_val"])):
        coco = load_coco(root / "annotations" / f"instances_{split}2017.json")
        assert set(coco.dataset) >= {"info", "licenses", "images", "annotations", "categories"}
        images = coco.dataset["images"]
        assert len(images) == count == coco_set[f"num_{split}"]
        assert sorted(p.name for p in (root / f"{split}2017").iterdir()) == sorted(
            i["file_name"] for i in images
        )
        for info in images:
            assert info["file_name"] == f"{info['id']:012d}.jpg"
            with Image.open(root / f"{split}2017" / info["file_name"]) as image:
                assert image.size == (info["width"], info["height"])
        image_ids = [info["id"] for info in images]
        assert len(set(image_ids)) == len(image_ids)
        assert all(image_id not in (index, index + 1) for index, image_id in enumerate(image_ids))
        ids_per_split.append(set(image_ids))
        assert coco.getCatIds() == [1, 3, 7, 12]  # non-contiguous on purpose
        assert [cat["name"] for cat in coco.loadCats(coco.getCatIds())] == list(TOY_CLASSES)
    assert not ids_per_split[0] & ids_per_split[1]


def test_coco_annotations(coco_set: dict) -> None:
    coco = load_coco(coco_set["train_ann"])
    anns = coco.dataset["annotations"]
    assert len({ann["id"] for ann in anns}) == len(anns)
    per_image = [len(coco.getAnnIds(imgIds=image_id, iscrowd=False)) for image_id in coco.getImgIds()]
    assert 0 in per_image and max(per_image) <= 6
    assert any(ann["iscrowd"] for ann in anns)
    areas = np.array([ann["area"] for ann in anns])
    assert (areas < 32**2).any() and ((areas >= 32**2) & (areas < 96**2)).any() and (areas >= 96**2).any()
    for ann in anns:
        info = coco.imgs[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        assert 0 <= x < x + w <= info["width"] and 0 <= y < y + h <= info["height"]
        mask = coco.annToMask(ann)
        ys, xs = np.nonzero(mask)
        assert [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()] == [x, y, w, h]
        assert mask.sum() == ann["area"]


def test_coco_annotations_cover_drawn_shapes(coco_set: dict) -> None:
    # Each (non-crowd) annotation must sit on one solid-coloured shape, unlike its surroundings.
    coco = load_coco(coco_set["train_ann"])
    inside_uniform, ring_same = [], []
    for ann in coco.loadAnns(coco.getAnnIds(iscrowd=False)):
        image = np.asarray(Image.open(coco_set["train_dir"] / coco.imgs[ann["image_id"]]["file_name"]), float)
        mask = coco.annToMask(ann)
        inside = cv2.erode(mask, np.ones((3, 3), np.uint8)).astype(bool)
        ring = cv2.dilate(mask, np.ones((5, 5), np.uint8)).astype(bool) & ~mask.astype(bool)
        if inside.sum() < 10:
            continue
        color = np.median(image[inside], axis=0)
        inside_uniform.append((np.abs(image[inside] - color).max(axis=1) < 40).mean())
        ring_same.append((np.abs(image[ring] - color).max(axis=1) < 40).mean())
    assert np.mean(inside_uniform) > 0.9 and min(inside_uniform) > 0.6
    assert np.mean(ring_same) < 0.3


def test_coco_deterministic(coco_set: dict, tmp_path: Path) -> None:
    again = make_coco_detection_set(tmp_path, **COCO_KWARGS)
    assert file_bytes(again["root"]) == file_bytes(coco_set["root"])


# --- VOC segmentation ---


def test_voc_palette() -> None:
    palette = voc_palette()
    assert palette.shape == (256, 3) and palette.dtype == np.uint8
    assert palette[0].tolist() == [0, 0, 0]
    assert palette[1].tolist() == [128, 0, 0]
    assert palette[2].tolist() == [0, 128, 0]
    assert palette[15].tolist() == [192, 128, 128]  # person
    assert palette[255].tolist() == [224, 224, 192]


def test_voc_layout(voc_set: dict) -> None:
    voc_root = voc_set["root"] / "VOCdevkit" / "VOC2012"
    split_dir = voc_root / "ImageSets" / "Segmentation"
    train_ids, val_ids = read_lines(split_dir / "train.txt"), read_lines(split_dir / "val.txt")
    assert (len(train_ids), len(val_ids)) == (VOC_KWARGS["num_train"], VOC_KWARGS["num_val"])
    assert train_ids == sorted(train_ids) and not set(train_ids) & set(val_ids)
    sizes = set()
    for image_id in train_ids + val_ids:
        assert re.fullmatch(r"20(0[7-9]|1[0-2])_\d{6}", image_id)
        with Image.open(voc_root / "JPEGImages" / f"{image_id}.jpg") as image:
            assert image.format == "JPEG" and image.mode == "RGB"
            sizes.add(image.size)
        with Image.open(voc_root / "SegmentationClass" / f"{image_id}.png") as mask:
            assert mask.format == "PNG" and mask.mode == "P" and mask.size == image.size
    assert len(sizes) > 1 and any(w != h for w, h in sizes)


def test_voc_masks(voc_set: dict) -> None:
    palette = voc_palette()
    for mask_path in sorted(voc_set["mask_dir"].glob("*.png")):
        with Image.open(mask_path) as mask:
            stored_palette = np.array(mask.getpalette(), dtype=np.uint8).reshape(-1, 3)
            label = np.asarray(mask)
        np.testing.assert_array_equal(stored_palette[:256], palette)
        values = set(np.unique(label).tolist())
        assert values <= {*range(len(TOY_CLASSES) + 1), 255}
        assert 255 in values and values & set(range(1, len(TOY_CLASSES) + 1))
        # VOC's ignore band separates every pair of different labels: no two 4-neighbours differ
        # unless one of them is 255.
        for a, b in ((label[:, 1:], label[:, :-1]), (label[1:], label[:-1])):
            assert not ((a != b) & (a != 255) & (b != 255)).any()


def test_voc_deterministic(voc_set: dict, tmp_path: Path) -> None:
    again = make_voc_segmentation_set(tmp_path, **VOC_KWARGS)
    assert file_bytes(again["root"]) == file_bytes(voc_set["root"])


# --- CLI ---


def test_cli_writes_then_skips(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    spec = importlib.util.spec_from_file_location("make_toy_data", REPO_ROOT / "tools" / "make_toy_data.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    args = ["voc", "--out", str(tmp_path), "--num-train", "2", "--num-val", "1"]
    cli.main(args)
    split_dir = tmp_path / "voc" / "VOCdevkit" / "VOC2012" / "ImageSets" / "Segmentation"
    assert len(read_lines(split_dir / "train.txt")) == 2
    capsys.readouterr()
    cli.main(args)
    assert "skipping" in capsys.readouterr().out
