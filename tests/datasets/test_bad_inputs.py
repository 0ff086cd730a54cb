"""Bad input across the loaders: valid generated files, mutated one way each, then loaded for real.

Each case builds the data set and runs every item through its pipeline (and, for segmentation, the head's
loss, where label values are used). It must end one of two ways: it succeeds and the problem is logged
with a count, or it raises an error whose message names the file (and the image / annotation id where
there is one). A library's own message without the file (``KeyError: 'image_id'``, albumentations'
``Expected x_min for bbox [nan ...]``, torch's ``Target 7 is out of bounds``) fails the case.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from PIL import Image

from visionkit.datasets import CocoDetection, ImageNetDataset, VOCSegmentation
from visionkit.datasets.toy_data import (
    make_classification_set,
    make_coco_detection_set,
    make_voc_segmentation_set,
)
from visionkit.models.heads import FCNHead

COCO_PIPELINE = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="Resize", height=32, width=32)]),
    dict(type="PackInputs"),
]
VOC_CLASSES = ("background", "circle", "square", "star", "triangle")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pristine")
    make_coco_detection_set(root / "coco", num_train=3, num_val=1, image_size=48)
    make_voc_segmentation_set(root / "voc", num_train=2, num_val=1, image_size=48)
    make_classification_set(root / "cls", num_train_per_class=1, num_val_per_class=1, image_size=32)
    return root


@pytest.fixture
def data(pristine, tmp_path) -> Path:
    shutil.copytree(pristine, tmp_path / "data")
    return tmp_path / "data"


# --- the runs -------------------------------------------------------------------------------------


def run_coco(data: Path) -> None:
    dataset = CocoDetection(
        data_root=str(data / "coco"),
        ann_file="annotations/instances_train2017.json",
        data_prefix=dict(img="train2017/"),
        pipeline=COCO_PIPELINE,
    )
    for i in range(len(dataset)):
        dataset[i]


def run_voc(data: Path) -> None:
    dataset = VOCSegmentation(
        data_root=str(data / "voc" / "VOCdevkit" / "VOC2012"),
        metainfo=dict(classes=VOC_CLASSES),
        pipeline=[dict(type="LoadImage"), dict(type="LoadSegMap"), dict(type="PackInputs")],
    )
    head = FCNHead(in_channels=(4,), num_classes=len(VOC_CLASSES), in_taps=("x",), channels=4)
    for i in range(len(dataset)):
        sample = dataset[i]["data_samples"]
        sample.set_metainfo(dict(batch_input_shape=sample.img_shape))
        head.loss({"x": torch.zeros(1, 4, 6, 6)}, [sample])


def run_folder(split: str) -> Callable[[Path], None]:
    def run(data: Path) -> None:
        dataset = ImageNetDataset(
            data_root=str(data / "cls"),
            split=split,
            pipeline=[dict(type="LoadImage"), dict(type="PackInputs")],
        )
        for i in range(len(dataset)):
            dataset[i]

    return run


# --- the mutations (each returns the strings the outcome must contain) ---------------------------


def coco_json(data: Path) -> Path:
    return data / "coco" / "annotations" / "instances_train2017.json"


def edit_coco(edit: Callable[[dict], object]) -> Callable[[Path], list[str]]:
    def mutate(data: Path) -> list[str]:
        path = coco_json(data)
        content = json.loads(path.read_text())
        expected = edit(content)
        path.write_text(json.dumps(content))  # allow_nan: NaN / Infinity as Python's json writes them
        return [str(path), *([] if expected is None else [str(e) for e in expected])]

    return mutate


def first_ann(content: dict) -> dict:
    return content["annotations"][0]


def set_ann(key, value, expected=("annotation id {id}",)):
    def edit(content):
        ann = first_ann(content)
        ann[key] = value
        return [e.format(id=ann["id"]) for e in expected]

    return edit


def set_bbox(values, expected):
    def edit(content):
        ann = first_ann(content)
        ann["bbox"] = values
        return [e.format(id=ann["id"]) for e in expected]

    return edit


def coco_image(data: Path, index: int = 0) -> tuple[Path, int]:
    image = json.loads(coco_json(data).read_text())["images"][index]
    return data / "coco" / "train2017" / image["file_name"], image["id"]


def write_bytes_to_coco_image(how: str) -> Callable[[Path], list[str]]:
    def mutate(data: Path) -> list[str]:
        path, image_id = coco_image(data)
        raw = path.read_bytes()
        if how == "truncated":
            path.write_bytes(raw[: len(raw) // 2])
        elif how == "garbage":
            path.write_bytes(np.random.default_rng(0).integers(0, 256, 2000, dtype=np.uint8).tobytes())
        elif how == "empty":
            path.write_bytes(b"")
        elif how == "missing":
            path.unlink()
        elif how == "resized":
            Image.open(path).resize((20, 30)).save(path)
            return [str(path), f"image id {image_id}", "30x20"]
        return [str(path)]

    return mutate


def voc(data: Path) -> Path:
    return data / "voc" / "VOCdevkit" / "VOC2012"


def first_mask(data: Path) -> Path:
    first_id = (voc(data) / "ImageSets" / "Segmentation" / "train.txt").read_text().split()[0]
    return voc(data) / "SegmentationClass" / f"{first_id}.png"


def edit_mask(how: str) -> Callable[[Path], list[str]]:
    def mutate(data: Path) -> list[str]:
        path = first_mask(data)
        mask = Image.open(path)
        if how == "size":
            mask.resize((10, 10)).save(path)
        elif how == "rgb":
            mask.convert("RGB").save(path)
        elif how == "labels":
            pixels = mask.load()
            for y in range(4):
                for x in range(4):
                    pixels[x, y] = 7  # a palette index the 5-class head does not have
            mask.save(path)
            return [str(path), "[7]", "outside 0..4"]
        elif how == "garbage":
            path.write_bytes(b"not a png")
        elif how == "missing":
            path.unlink()
        return [str(path)]

    return mutate


def edit_text(relative: str, text: str | Callable[[str], str]) -> Callable[[Path], list[str]]:
    def mutate(data: Path) -> list[str]:
        path = data / relative
        path.write_text(text(path.read_text()) if callable(text) else text)
        return [str(path)]

    return mutate


def empty_class_folder(data: Path) -> list[str]:
    folder = sorted((data / "cls" / "train").iterdir())[0]
    for image in folder.iterdir():
        image.unlink()
    return [f"1 class folders hold no images ({folder.name})"]


def no_class_folders(data: Path) -> list[str]:
    train = data / "cls" / "train"
    shutil.rmtree(train)
    train.mkdir()
    return [f"No images found in '{train}'"]


def garbage_class_image(data: Path) -> list[str]:
    image = sorted((data / "cls" / "train").rglob("*.*"))[0]
    image.write_bytes(b"\x89PNG but not really")
    return [str(image)]


def voc_text(name: str) -> str:
    return f"voc/VOCdevkit/VOC2012/ImageSets/Segmentation/{name}"


@dataclass
class Case:
    mutate: Callable[[Path], list[str]]
    run: Callable[[Path], None]
    outcome: str  # "error": raises naming the strings; "logged": succeeds, the log names them


CASES = {
    # COCO instances JSON: structure
    "coco-no-images-key": Case(edit_coco(lambda c: (c.pop("images"), ["'images'"])[1]), run_coco, "error"),
    "coco-no-annotations-key": Case(
        edit_coco(lambda c: (c.pop("annotations"), ["'annotations'"])[1]), run_coco, "error"
    ),
    "coco-no-categories-key": Case(
        edit_coco(lambda c: (c.pop("categories"), ["'categories'"])[1]), run_coco, "error"
    ),
    "coco-annotations-a-dict": Case(
        edit_coco(lambda c: (c.update(annotations={}), ["is a dict"])[1]), run_coco, "error"
    ),
    "coco-top-level-list": Case(
        edit_text("coco/annotations/instances_train2017.json", "[]"), run_coco, "error"
    ),
    "coco-truncated-json": Case(
        edit_text("coco/annotations/instances_train2017.json", lambda t: t[: len(t) // 2]), run_coco, "error"
    ),
    "coco-empty-annotations": Case(
        edit_coco(lambda c: (c.update(annotations=[]), ["'annotations' is an empty list"])[1]),
        run_coco,
        "logged",
    ),
    "coco-empty-images": Case(
        edit_coco(lambda c: (c.update(images=[]), ["'images' is an empty list"])[1]), run_coco, "logged"
    ),
    "coco-empty-categories": Case(
        edit_coco(lambda c: (c.update(categories=[]), ["lists no categories"])[1]), run_coco, "error"
    ),
    # COCO records: wrong or missing keys and types
    "coco-ann-without-bbox": Case(
        edit_coco(
            lambda c: [f"annotation id {c['annotations'][0]['id']}", (first_ann(c).pop("bbox"), "'bbox'")[1]]
        ),
        run_coco,
        "error",
    ),
    "coco-ann-without-image-id": Case(
        edit_coco(
            lambda c: [
                f"annotation id {c['annotations'][0]['id']}",
                (first_ann(c).pop("image_id"), "'image_id'")[1],
            ]
        ),
        run_coco,
        "error",
    ),
    "coco-bbox-strings": Case(
        edit_coco(set_bbox(["1", "2", "3", "4"], ["annotation id {id}", "bbox"])), run_coco, "error"
    ),
    "coco-bbox-three-values": Case(
        edit_coco(set_bbox([1, 2, 3], ["annotation id {id}", "bbox"])), run_coco, "error"
    ),
    "coco-category-id-string": Case(
        edit_coco(set_ann("category_id", "5", ["annotation id {id}", "category_id"])), run_coco, "error"
    ),
    "coco-image-without-width": Case(
        edit_coco(
            lambda c: [f"image id {c['images'][0]['id']}", (c["images"][0].pop("width"), "'width'")[1]]
        ),
        run_coco,
        "error",
    ),
    "coco-image-id-string": Case(
        edit_coco(lambda c: [(c["images"][0].update(id="x"), "image id x")[1]]), run_coco, "error"
    ),
    # COCO boxes: dropped or clipped, and counted
    "coco-bbox-nan": Case(
        edit_coco(set_bbox([math.nan, 2, 10, 10], ["1 non-finite", "annotation ids {id}"])),
        run_coco,
        "logged",
    ),
    "coco-bbox-inf": Case(
        edit_coco(set_bbox([1, 2, math.inf, 10], ["1 non-finite", "annotation ids {id}"])), run_coco, "logged"
    ),
    "coco-bbox-negative-size": Case(
        edit_coco(set_bbox([10, 10, -5, 8], ["1 degenerate"])), run_coco, "logged"
    ),
    "coco-bbox-huge": Case(edit_coco(set_bbox([1, 1, 1e9, 1e9], ["1 clipped"])), run_coco, "logged"),
    "coco-unknown-category": Case(
        edit_coco(set_ann("category_id", 999, ["1 unknown category"])), run_coco, "logged"
    ),
    "coco-unknown-image": Case(
        edit_coco(set_ann("image_id", 123456, ["1 unknown image"])), run_coco, "logged"
    ),
    # COCO image files
    "coco-image-truncated": Case(write_bytes_to_coco_image("truncated"), run_coco, "error"),
    "coco-image-garbage": Case(write_bytes_to_coco_image("garbage"), run_coco, "error"),
    "coco-image-empty-file": Case(write_bytes_to_coco_image("empty"), run_coco, "error"),
    "coco-image-missing": Case(write_bytes_to_coco_image("missing"), run_coco, "error"),
    "coco-image-other-size": Case(write_bytes_to_coco_image("resized"), run_coco, "error"),
    # VOC segmentation
    "voc-mask-wrong-size": Case(edit_mask("size"), run_voc, "error"),
    "voc-mask-rgb-mode": Case(edit_mask("rgb"), run_voc, "error"),
    "voc-mask-labels-out-of-range": Case(edit_mask("labels"), run_voc, "error"),
    "voc-mask-garbage": Case(edit_mask("garbage"), run_voc, "error"),
    "voc-mask-missing": Case(edit_mask("missing"), run_voc, "error"),
    "voc-split-empty": Case(edit_text(voc_text("train.txt"), "\n"), run_voc, "error"),
    "voc-split-unknown-id": Case(
        edit_text(voc_text("train.txt"), lambda t: t + "no_such_image\n"), run_voc, "error"
    ),
    # class-per-folder (ImageNet layout)
    "folder-no-class-folders": Case(no_class_folders, run_folder("train"), "error"),
    "folder-empty-class-folder": Case(empty_class_folder, run_folder("train"), "logged"),
    "folder-garbage-image": Case(garbage_class_image, run_folder("train"), "error"),
    "folder-val-label-out-of-range": Case(
        edit_text("cls/meta/val.txt", lambda t: t.replace(" 0\n", " 9\n", 1)), run_folder("val"), "error"
    ),
    "folder-val-negative-label": Case(
        edit_text("cls/meta/val.txt", lambda t: t.replace(" 0\n", " -1\n", 1)), run_folder("val"), "error"
    ),
    "folder-val-malformed-line": Case(
        edit_text("cls/meta/val.txt", lambda t: "just_a_name.jpg\n" + t), run_folder("val"), "error"
    ),
}


@pytest.fixture
def log() -> list[str]:
    """Messages logged through mmengine's current logger during the test."""
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_is_named_or_logged(name, data, log):
    case = CASES[name]
    expected = case.mutate(data)
    try:
        case.run(data)
    except Exception as error:  # noqa: BLE001 - every kind of failure is judged by its message
        message = f"{type(error).__name__}: {error}"
        assert case.outcome == "error", f"expected success with a log, got {message}"
        missing = [e for e in expected if e not in message]
        assert not missing, f"{message}\n does not name {missing}"
    else:
        assert case.outcome == "logged", "accepted silently: expected an error"
        text = "\n".join(log)
        missing = [e for e in expected if e not in text]
        assert not missing, f"log does not name {missing}:\n{text[-2000:]}"
