"""Build VOC 2012 "trainaug" from the SBD download: label PNGs in SegmentationClassAug and the 10,582-id list.

    python tools/dataset_converters/voc_aug.py data/VOCdevkit data/benchmark_RELEASE [--nproc 8]

Inputs, as they unpack: VOCtrainval_11-May-2012.tar -> VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,
ImageSets/Segmentation/{train,val}.txt}; SBD's benchmark.tgz -> benchmark_RELEASE/dataset/{cls/*.mat,
img/*.jpg, train.txt, val.txt} (cls/<id>.mat holds a MATLAB struct GTcls with Segmentation, the class index
per pixel, Boundaries and CategoriesPresent).

Writes into VOCdevkit/VOC2012 (as mmsegmentation's tools/dataset_converters/voc_aug.py, plus the VOC masks):
- SegmentationClassAug/<id>.png: grayscale index PNGs, GTcls.Segmentation of every SBD image, then VOC's own
  SegmentationClass labels (object borders 255) for the ids of VOC's train split, so that each trainaug id has
  one label file and VOC's annotation wins where both exist (mmsegmentation trains VOC train ids on VOC's
  labels too, by concatenating two data sets);
- ImageSets/Segmentation/trainaug.txt: SBD train + SBD val + VOC train, minus VOC val (10,582 ids for the
  official sets), sorted;
- ImageSets/Segmentation/aug.txt: mmsegmentation's list of the SBD images outside VOC train and val (9,118).

SBD images missing from JPEGImages are copied there from benchmark_RELEASE/dataset/img. Then train with
configs/deeplabv3lite_mnv2_voc.py (its split is trainaug.txt, its labels SegmentationClassAug).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from functools import partial
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

TRAINAUG_SIZE = 10582  # with VOC 2012's 1,464 / 1,449 ids and SBD's 8,498 / 2,857
OFFICIAL_SIZES = {"voc train": 1464, "voc val": 1449, "sbd train": 8498, "sbd val": 2857}
NUM_CLASSES = 21


def read_sbd_segmentation(path: Path) -> np.ndarray:
    """``GTcls.Segmentation`` of an SBD ``cls/<id>.mat`` as (H, W) uint8; errors name the file."""
    from scipy.io import loadmat  # scipy comes with scikit-image, a visionkit dependency

    try:
        gt = loadmat(path, squeeze_me=True, struct_as_record=False)["GTcls"]
        segmentation = np.asarray(gt.Segmentation)
    except (KeyError, AttributeError, ValueError, OSError) as error:
        raise ValueError(
            f"'{path}' is not an SBD class annotation (a GTcls struct with Segmentation): {error}"
        ) from error
    if segmentation.ndim != 2 or segmentation.size == 0 or segmentation.max() >= NUM_CLASSES:
        raise ValueError(
            f"'{path}': GTcls.Segmentation has shape {segmentation.shape} and values up to "
            f"{segmentation.max() if segmentation.size else None}; expected an image of class indices 0..20"
        )
    return segmentation.astype(np.uint8)


def convert_mat(name: str, cls_dir: Path, out_dir: Path) -> None:
    Image.fromarray(read_sbd_segmentation(cls_dir / f"{name}.mat")).save(out_dir / f"{name}.png")


def copy_voc_label(name: str, voc_dir: Path, out_dir: Path) -> None:
    """VOC's palette PNG -> grayscale PNG of the same indices (the palette only colours them)."""
    with Image.open(voc_dir / "SegmentationClass" / f"{name}.png") as label:
        Image.fromarray(np.asarray(label, dtype=np.uint8)).save(out_dir / f"{name}.png")


def read_ids(path: Path) -> list[str]:
    if not path.is_file():
        raise SystemExit(f"error: '{path}' not found; see the layout in this tool's help (-h)")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def split_lists(voc_dir: Path, sbd_dir: Path) -> tuple[list[str], list[str], dict[str, list[str]]]:
    """(trainaug ids, aug ids, the four input lists by name); checks trainaug's size on official inputs."""
    lists = {
        "voc train": read_ids(voc_dir / "ImageSets" / "Segmentation" / "train.txt"),
        "voc val": read_ids(voc_dir / "ImageSets" / "Segmentation" / "val.txt"),
        "sbd train": read_ids(sbd_dir / "train.txt"),
        "sbd val": read_ids(sbd_dir / "val.txt"),
    }
    sbd = set(lists["sbd train"]) | set(lists["sbd val"])
    trainaug = sorted((sbd | set(lists["voc train"])) - set(lists["voc val"]))
    aug = sorted(sbd - set(lists["voc train"]) - set(lists["voc val"]))
    official = all(len(lists[k]) == n for k, n in OFFICIAL_SIZES.items())
    if official and len(trainaug) != TRAINAUG_SIZE:
        raise SystemExit(
            f"error: trainaug has {len(trainaug)} ids, not {TRAINAUG_SIZE}: check the input lists"
        )
    return trainaug, aug, lists


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("devkit", help="the VOCdevkit folder (holding VOC2012/)")
    parser.add_argument("sbd", help="SBD's benchmark_RELEASE folder (holding dataset/cls)")
    parser.add_argument("--nproc", type=int, default=1, help="processes converting the .mat files")
    args = parser.parse_args(argv)
    voc_dir, sbd_dir = Path(args.devkit) / "VOC2012", Path(args.sbd) / "dataset"
    cls_dir, out_dir = sbd_dir / "cls", voc_dir / "SegmentationClassAug"
    if not cls_dir.is_dir():
        raise SystemExit(
            f"error: '{cls_dir}' not found: give the benchmark_RELEASE folder that SBD unpacks to"
        )
    trainaug, aug, lists = split_lists(voc_dir, sbd_dir)
    sbd_ids = sorted(set(lists["sbd train"]) | set(lists["sbd val"]))
    missing = [i for i in sbd_ids if not (cls_dir / f"{i}.mat").is_file()]
    if missing:
        raise SystemExit(f"error: {len(missing)} SBD ids have no cls/<id>.mat (e.g. {missing[0]})")
    out_dir.mkdir(parents=True, exist_ok=True)
    convert = partial(convert_mat, cls_dir=cls_dir, out_dir=out_dir)
    try:
        if args.nproc > 1:
            with Pool(args.nproc) as pool:
                pool.map(convert, sbd_ids, chunksize=64)
        else:
            for name in sbd_ids:
                convert(name)
    except ValueError as error:  # a file that is not SBD's: the message names it
        raise SystemExit(f"error: {error}") from None
    for name in lists["voc train"]:
        copy_voc_label(name, voc_dir, out_dir)
    copy_missing_images(trainaug, voc_dir / "JPEGImages", sbd_dir / "img")
    split_dir = voc_dir / "ImageSets" / "Segmentation"
    (split_dir / "trainaug.txt").write_text("".join(f"{i}\n" for i in trainaug))
    (split_dir / "aug.txt").write_text("".join(f"{i}\n" for i in aug))
    print(
        f"{out_dir}: {len(sbd_ids)} SBD labels, {len(lists['voc train'])} VOC train labels; "
        f"{split_dir / 'trainaug.txt'}: {len(trainaug)} ids; aug.txt: {len(aug)} ids"
    )


def copy_missing_images(ids: list[str], jpeg_dir: Path, sbd_img_dir: Path) -> None:
    """Copy each id's image missing from VOC's JPEGImages from SBD's img folder; fail naming what lacks."""
    absent = [i for i in ids if not (jpeg_dir / f"{i}.jpg").is_file()]
    unrecoverable = [i for i in absent if not (sbd_img_dir / f"{i}.jpg").is_file()]
    if unrecoverable:
        raise SystemExit(
            f"error: {len(unrecoverable)} trainaug images are in neither '{jpeg_dir}' nor '{sbd_img_dir}' "
            f"(e.g. {unrecoverable[0]}.jpg)"
        )
    for name in absent:
        shutil.copyfile(sbd_img_dir / f"{name}.jpg", jpeg_dir / f"{name}.jpg")


if __name__ == "__main__":
    sys.exit(main())
