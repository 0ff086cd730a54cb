"""Toy classification set in the ImageNet (ILSVRC2012) on-disk layout used by mmpretrain.

::

    root/train/<class_name>/<class_name>_<i>.JPEG
    root/val/ILSVRC2012_val_<8-digit i>.JPEG        (flat, 1-based)
    root/meta/train.txt     "<class_name>/<file> <label>"
    root/meta/val.txt       "<file> <label>"
    root/meta/classes.txt   one class name per line; label i is line i (0-based)
"""

from pathlib import Path

import numpy as np
from PIL import Image

from .shapes import JPEG_QUALITY, TOY_CLASSES, draw_shape, random_background, sample_rng


def draw_classification_image(rng: np.random.Generator, name: str, image_size: int) -> np.ndarray:
    """One (image_size, image_size, 3) uint8 RGB image: a large, roughly centred shape over a photo.

    The shape spans 35-70% of the image side and its centre is jittered by up to a quarter of the free space.
    """
    image = random_background(rng, image_size, image_size)
    size = rng.uniform(0.35, 0.7) * image_size
    jitter = rng.uniform(-0.25, 0.25, size=2) * (image_size - size)
    center = (image_size / 2 + jitter[0], image_size / 2 + jitter[1])
    draw_shape(image, rng, name, center, size)
    return image


def _write_image(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path, quality=JPEG_QUALITY)


def make_classification_set(
    root: str | Path,
    num_train_per_class: int = 200,
    num_val_per_class: int = 50,
    image_size: int = 96,
    seed: int = 0,
) -> dict:
    """Write a shape classification set with classes :data:`TOY_CLASSES` in the ImageNet layout.

    Val images are shuffled so their labels are not grouped by class. Image ``i`` of split ``s`` is drawn
    from ``sample_rng(seed, s, i)`` (train ``i`` counts over all classes in label order, val ``i`` is
    0-based).
    Returns the written paths and counts.
    """
    root = Path(root)
    train_dir, val_dir, meta_dir = root / "train", root / "val", root / "meta"
    for directory in (val_dir, meta_dir, *(train_dir / name for name in TOY_CLASSES)):
        directory.mkdir(parents=True, exist_ok=True)

    train_lines = []
    for label, name in enumerate(TOY_CLASSES):
        for i in range(num_train_per_class):
            index = label * num_train_per_class + i
            relative = f"{name}/{name}_{i:04d}.JPEG"
            _write_image(
                train_dir / relative,
                draw_classification_image(sample_rng(seed, "train", index), name, image_size),
            )
            train_lines.append(f"{relative} {label}\n")

    val_labels = np.random.default_rng(seed).permutation(
        np.repeat(np.arange(len(TOY_CLASSES)), num_val_per_class)
    )
    val_lines = []
    for index, label in enumerate(val_labels.tolist()):
        file_name = f"ILSVRC2012_val_{index + 1:08d}.JPEG"
        image = draw_classification_image(sample_rng(seed, "val", index), TOY_CLASSES[label], image_size)
        _write_image(val_dir / file_name, image)
        val_lines.append(f"{file_name} {label}\n")

    (meta_dir / "train.txt").write_text("".join(train_lines))
    (meta_dir / "val.txt").write_text("".join(val_lines))
    (meta_dir / "classes.txt").write_text("".join(f"{name}\n" for name in TOY_CLASSES))
    return {
        "root": root,
        "train_dir": train_dir,
        "val_dir": val_dir,
        "train_ann": meta_dir / "train.txt",
        "val_ann": meta_dir / "val.txt",
        "classes_file": meta_dir / "classes.txt",
        "classes": TOY_CLASSES,
        "num_train": len(train_lines),
        "num_val": len(val_lines),
    }
