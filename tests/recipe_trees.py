"""Mock data trees in the exact layouts the official downloads unpack to, for the recipe tests.

- ImageNet: ``train/<wnid>/<wnid>_<n>.JPEG``, the val tar's flat ``val/ILSVRC2012_val_%08d.JPEG`` and
  the devkit ``ILSVRC2012_devkit_t12.tar.gz`` (``data/meta.mat`` with its ``synsets`` struct array, leaves
  numbered by ILSVRC2012_ID in an order that is not the wnids', and
  ``data/ILSVRC2012_validation_ground_truth.txt``); no ``meta/classes.txt``.
- COCO 2017: ``annotations/instances_{train,val}2017.json`` (COCO's 80 categories with their real ids and
  names, polygon and crowd-RLE segmentations), ``annotations/image_info_test-dev2017.json`` (no
  ``annotations``), ``{train,val,test}2017/*.jpg``.
- VOC 2012 + SBD: ``VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,ImageSets/Segmentation/{train,val}.txt}``
  and ``benchmark_RELEASE/dataset/{cls/*.mat,img/*.jpg,train.txt,val.txt}``, the .mat files written with scipy
  as SBD's: a struct ``GTcls`` with ``Segmentation`` (uint8 class per pixel), ``Boundaries`` (a 20x1 cell of
  sparse matrices) and ``CategoriesPresent``.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import sparse
from scipy.io import savemat
from torchvision.models.detection import SSDLite320_MobileNet_V3_Large_Weights

from visionkit.datasets.voc_palette import voc_palette

WNIDS = ("n01440764", "n01443537", "n01484850")  # sorted: labels 0, 1, 2
ILSVRC_IDS = {2: "n01440764", 1: "n01443537", 3: "n01484850"}  # the devkit's own numbering
COCO_CATEGORIES = [
    {"id": i, "name": name, "supercategory": "thing"}
    for i, name in enumerate(SSDLite320_MobileNet_V3_Large_Weights.COCO_V1.meta["categories"])
    if name not in ("__background__", "N/A")
]


def _image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    return rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def _jpeg(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(path, quality=95)


def make_imagenet(root: Path, per_class: int = 2, size: int = 40) -> dict:
    """ImageNet as its tars and devkit unpack, plus the devkit archive; returns paths and val labels."""
    rng = np.random.default_rng(0)
    for wnid in WNIDS:
        for n in range(per_class):
            _jpeg(root / "train" / wnid / f"{wnid}_{n + 1}.JPEG", _image(rng, size, size + 8))
    val_ids = [2, 3, 1, 2, 1, 3][: per_class * len(WNIDS)]  # ILSVRC2012_IDs of val images 1..6
    for k in range(1, len(val_ids) + 1):
        _jpeg(root / "val" / f"ILSVRC2012_val_{k:08d}.JPEG", _image(rng, size + 4, size))
    synsets = np.zeros(
        (len(ILSVRC_IDS) + 1, 1),
        dtype=[("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"), ("num_children", "O")],
    )
    for row, (ilsvrc_id, wnid) in enumerate(sorted(ILSVRC_IDS.items())):
        synsets[row, 0] = (
            np.array([[ilsvrc_id]]),
            np.array([wnid]),
            np.array([f"class {wnid}"]),
            np.array([[0]]),
        )
    synsets[-1, 0] = (np.array([[1001]]), np.array(["n00001740"]), np.array(["entity"]), np.array([[3]]))
    meta = io.BytesIO()
    savemat(meta, {"synsets": synsets})
    truth = "".join(f"{i}\n" for i in val_ids).encode()
    devkit = root.parent / "ILSVRC2012_devkit_t12.tar.gz"
    with tarfile.open(devkit, "w:gz") as archive:
        for name, data in (
            ("data/meta.mat", meta.getvalue()),
            ("data/ILSVRC2012_validation_ground_truth.txt", truth),
        ):
            info = tarfile.TarInfo(f"ILSVRC2012_devkit_t12/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    labels = [WNIDS.index(ILSVRC_IDS[i]) for i in val_ids]
    return {"root": root, "devkit": devkit, "val_labels": labels}


def _box_annotation(ann_id: int, image_id: int, category: int, box: list[float], crowd: bool = False) -> dict:
    x, y, w, h = box
    polygon = [[x, y, x + w, y, x + w, y + h, x, y + h]]
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category,
        "bbox": box,
        "area": w * h,
        "iscrowd": int(crowd),
        "segmentation": polygon,
    }


def make_coco(root: Path, num_train: int = 6, num_val: int = 2, num_test: int = 2, size: int = 96) -> Path:
    """COCO 2017's layout with 80 categories; every image holds a person (1), a dog (18) and a stop sign (13)
    large enough for the 1000-pixel filter of the COCO-with-VOC-classes set."""
    rng = np.random.default_rng(1)
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    info = {"description": "mock COCO 2017", "version": "1.0", "year": 2017}
    ann_id = 0
    for split, count, first_id in (
        ("train2017", num_train, 1),
        ("val2017", num_val, 1001),
        ("test2017", num_test, 2001),
    ):
        images, anns = [], []
        for image_id in range(first_id, first_id + count):
            file_name = f"{image_id:012d}.jpg"
            _jpeg(root / split / file_name, _image(rng, size, size + 16))
            images.append({"id": image_id, "file_name": file_name, "width": size + 16, "height": size})
            for category, box in ((1, [5, 8, 40, 50]), (18, [50, 30, 45, 40]), (13, [10, 70, 20, 20])):
                ann_id += 1
                anns.append(_box_annotation(ann_id, image_id, category, [float(v) for v in box]))
        data = {"info": info, "licenses": [], "images": images, "categories": COCO_CATEGORIES}
        if split == "test2017":  # image_info_test-dev2017.json: images and categories, no annotations
            (root / "annotations" / "image_info_test-dev2017.json").write_text(json.dumps(data))
        else:
            (root / "annotations" / f"instances_{split}.json").write_text(
                json.dumps({**data, "annotations": anns})
            )
    return root


def _label_map(rng: np.random.Generator, height: int, width: int, border: bool) -> np.ndarray:
    label = np.zeros((height, width), np.uint8)
    for _ in range(2):
        cls = int(rng.integers(1, 21))
        y, x = int(rng.integers(0, height // 2)), int(rng.integers(0, width // 2))
        label[y : y + height // 2, x : x + width // 2] = cls
    if border:  # VOC's object borders are 255
        label[0, :] = 255
    return label


def write_sbd_mat(path: Path, segmentation: np.ndarray) -> None:
    """An SBD ``cls/<id>.mat``: struct GTcls with Segmentation, Boundaries (20x1 cell of sparse) and
    CategoriesPresent, as the SBD release stores it."""
    boundaries = np.empty((20, 1), dtype=object)
    for k in range(20):
        boundaries[k, 0] = sparse.csc_matrix(segmentation == k + 1, dtype=np.float64)
    present = (
        np.unique(segmentation[(segmentation > 0) & (segmentation < 255)]).astype(np.uint8).reshape(-1, 1)
    )
    gt = {"Segmentation": segmentation, "Boundaries": boundaries, "CategoriesPresent": present}
    savemat(path, {"GTcls": gt})


def make_voc_sbd(root: Path, height: int = 48, width: int = 64) -> dict:
    """VOC 2012 (train a, b, c; val d, e) and SBD (train b, f, g; val e, h): trainaug = {a, b, c, f, g, h}
    (VOC train + SBD train + SBD val, minus VOC val's d, e), aug = {f, g, h}; h's image is only in SBD's
    img/."""
    rng = np.random.default_rng(2)
    voc = root / "VOCdevkit" / "VOC2012"
    sbd = root / "benchmark_RELEASE" / "dataset"
    ids = {k: f"2008_00{i:04d}" for i, k in enumerate("abcdefgh", start=1)}
    splits = {"voc train": "abc", "voc val": "de", "sbd train": "bfg", "sbd val": "eh"}
    palette = voc_palette().astype(np.uint8).flatten().tolist()
    labels = {}
    for key, image_id in ids.items():
        image = _image(rng, height, width)
        _jpeg(
            (sbd if key == "h" else voc) / ("img" if key == "h" else "JPEGImages") / f"{image_id}.jpg", image
        )
        if key in "bh":
            _jpeg(sbd / "img" / f"{image_id}.jpg", image)
        if key in splits["voc train"] + splits["voc val"]:
            labels[("voc", key)] = _label_map(rng, height, width, border=True)
            png = Image.fromarray(labels[("voc", key)], mode="P")
            png.putpalette(palette)
            (voc / "SegmentationClass").mkdir(parents=True, exist_ok=True)
            png.save(voc / "SegmentationClass" / f"{image_id}.png")
        if key in splits["sbd train"] + splits["sbd val"]:
            labels[("sbd", key)] = _label_map(rng, height, width, border=False)
            (sbd / "cls").mkdir(parents=True, exist_ok=True)
            write_sbd_mat(sbd / "cls" / f"{image_id}.mat", labels[("sbd", key)])
    (voc / "ImageSets" / "Segmentation").mkdir(parents=True, exist_ok=True)
    for name, keys in splits.items():
        folder = voc / "ImageSets" / "Segmentation" if name.startswith("voc") else sbd
        (folder / f"{name.split()[1]}.txt").write_text("".join(f"{ids[k]}\n" for k in keys))
    return {
        "devkit": root / "VOCdevkit",
        "sbd": root / "benchmark_RELEASE",
        "voc": voc,
        "ids": ids,
        "labels": labels,
    }
