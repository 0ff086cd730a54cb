"""Label ImageNet's val images from the ILSVRC2012 devkit: write meta/val.txt, or sort into class folders.

    python tools/dataset_converters/imagenet_val.py ILSVRC2012_devkit_t12.tar.gz [--root data/imagenet]
        [--layout list|folders]

ILSVRC2012_img_val.tar unpacks to 50,000 unlabelled files (val/ILSVRC2012_val_00000001.JPEG ...); the labels
are in the devkit (ILSVRC2012_devkit_t12.tar.gz, or the folder it unpacks to): data/meta.mat numbers the 1,000
leaf synsets by ILSVRC2012_ID (1..1000) and data/ILSVRC2012_validation_ground_truth.txt gives one such id per
val image, in file-name order. visionkit's labels are the positions of the wnids in sorted order (the train
folders' order, the labels of the usual meta/val.txt), so this tool maps ILSVRC2012_ID -> wnid -> position.

--layout list (default) writes <root>/meta/val.txt ("ILSVRC2012_val_00000001.JPEG 65" per line, mmpretrain's
and Caffe's format); --layout folders moves each val image into <root>/val/<wnid>/ (torchvision's layout).
Either is what ImageNetDataset reads (docs/datasets.md). When <root>/train exists, its class folders must be
the devkit's 1,000 wnids.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tarfile
from pathlib import Path

import numpy as np

META = "data/meta.mat"
GROUND_TRUTH = "data/ILSVRC2012_validation_ground_truth.txt"


def read_devkit(devkit: str) -> tuple[bytes, bytes]:
    """The bytes of meta.mat and the ground-truth file, from the devkit .tar.gz or its unpacked folder."""
    if os.path.isdir(devkit):
        root = Path(devkit)
        found = [p for p in (root / META, root / "ILSVRC2012_devkit_t12" / META) if p.is_file()]
        if not found:
            raise SystemExit(
                f"error: no {META} under '{devkit}': give the devkit .tar.gz or its unpacked folder"
            )
        base = found[0].parents[1]
        return (base / META).read_bytes(), (base / GROUND_TRUTH).read_bytes()
    if not os.path.isfile(devkit):
        raise SystemExit(
            f"error: devkit '{devkit}' not found (ILSVRC2012_devkit_t12.tar.gz from image-net.org)"
        )
    with tarfile.open(devkit) as archive:
        members = {m.name.split("/", 1)[-1]: m for m in archive.getmembers() if m.isfile()}
        missing = [name for name in (META, GROUND_TRUTH) if name not in members]
        if missing:
            raise SystemExit(f"error: '{devkit}' has no {', '.join(missing)}: is it ILSVRC2012_devkit_t12?")
        return tuple(archive.extractfile(members[name]).read() for name in (META, GROUND_TRUTH))


def leaf_wnids(meta_mat: bytes) -> dict[int, str]:
    """ILSVRC2012_ID -> wnid of the leaf synsets (num_children == 0) in meta.mat's ``synsets`` struct."""
    from scipy.io import loadmat  # scipy comes with scikit-image, a visionkit dependency

    synsets = loadmat(io.BytesIO(meta_mat), squeeze_me=True)["synsets"]
    return {
        int(s["ILSVRC2012_ID"]): str(s["WNID"]) for s in np.atleast_1d(synsets) if int(s["num_children"]) == 0
    }


def val_labels(meta_mat: bytes, ground_truth: bytes) -> tuple[list[str], list[int], list[str]]:
    """(file names, labels, sorted wnids): val image k (1-based) is ``ILSVRC2012_val_%08d.JPEG`` and its
    label the position of its wnid among the sorted leaf wnids."""
    id_to_wnid = leaf_wnids(meta_mat)
    wnids = sorted(id_to_wnid.values())
    position = {wnid: i for i, wnid in enumerate(wnids)}
    ids = [int(line) for line in ground_truth.decode().split()]
    unknown = sorted({i for i in ids if i not in id_to_wnid})
    if unknown:
        raise SystemExit(f"error: the ground truth names ILSVRC2012_IDs {unknown[:5]} that meta.mat lacks")
    names = [f"ILSVRC2012_val_{k:08d}.JPEG" for k in range(1, len(ids) + 1)]
    return names, [position[id_to_wnid[i]] for i in ids], wnids


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("devkit", help="ILSVRC2012_devkit_t12.tar.gz or the folder it unpacks to")
    parser.add_argument("--root", default="data/imagenet", help="the ImageNet root holding val/ (and train/)")
    parser.add_argument("--layout", choices=["list", "folders"], default="list")
    args = parser.parse_args(argv)
    names, labels, wnids = val_labels(*read_devkit(args.devkit))
    root = Path(args.root)
    train = root / "train"
    if train.is_dir():
        folders = sorted(p.name for p in train.iterdir() if p.is_dir())
        if folders != wnids:
            extra = sorted(set(folders) - set(wnids))[:5]
            raise SystemExit(
                f"error: '{train}' has {len(folders)} class folders, not the devkit's {len(wnids)} wnids "
                f"(e.g. not in the devkit: {extra}); labels would not match the train split"
            )
    val = root / "val"
    missing = [n for n in names if not (val / n).is_file()]
    if missing:
        raise SystemExit(
            f"error: {len(missing)} of {len(names)} val images are not in '{val}' (e.g. {missing[0]}): "
            "unpack ILSVRC2012_img_val.tar there"
        )
    if args.layout == "list":
        (root / "meta").mkdir(parents=True, exist_ok=True)
        with open(root / "meta" / "val.txt", "w") as f:
            f.writelines(f"{name} {label}\n" for name, label in zip(names, labels, strict=True))
        print(f"wrote {root / 'meta' / 'val.txt'}: {len(names)} images, {len(wnids)} classes")
        return
    for name, label in zip(names, labels, strict=True):
        (val / wnids[label]).mkdir(exist_ok=True)
        os.replace(val / name, val / wnids[label] / name)
    print(f"moved {len(names)} images into {len(set(labels))} class folders under {val}")


if __name__ == "__main__":
    sys.exit(main())
