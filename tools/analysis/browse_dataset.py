"""Draw samples of a config's data set after its pipeline, to check the augmentations by eye.

    python tools/analysis/browse_dataset.py CONFIG [--split train|val|test] [--num 12] [--out-dir DIR]
        [--cfg-options key=value ...]

Each picture is what the model is fed (the network input after the pipeline: crops, flips, zooms, colour
changes) with its ground truth drawn: boxes with class names, mask overlays with a legend, or the class name.
Pictures go to DIR (default work_dirs/<config name>/browse_<split>/) as <index>_<image name>.png.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import cv2
import numpy as np
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

from visionkit.engine import USER_ERRORS, load_config
from visionkit.registry import DATASETS
from visionkit.structures.data_sample import TASK_KEY
from visionkit.visualization import draw_ground_truth


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file or shipped config name")
    parser.add_argument("--split", choices=["train", "val", "test"], default="train")
    parser.add_argument("--num", type=int, default=12, help="how many samples (spread over the set)")
    parser.add_argument("--out-dir", type=Path, help="where the pictures go")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random augmentations")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={})
    return parser.parse_args(argv)


def sample_indices(length: int, num: int) -> list[int]:
    """``num`` indices spread evenly over ``range(length)`` (all of them when there are fewer)."""
    return sorted({int(i) for i in np.linspace(0, length - 1, min(num, length))}) if length else []


def main(argv: list[str] | None = None) -> list[Path]:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get("default_scope", "visionkit"))
    import torch

    torch.manual_seed(args.seed)  # the Albumentations wrapper seeds itself from torch's seed
    out_dir = args.out_dir or Path(cfg.work_dir) / f"browse_{args.split}"
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        dataset = DATASETS.build(cfg[f"{args.split}_dataloader"].dataset)
        metainfo = dict(dataset.metainfo)
        written = []
        for index in sample_indices(len(dataset), args.num):
            item = dataset[index]
            sample = item["data_samples"]
            image = item["inputs"].permute(1, 2, 0).numpy()
            if image.dtype != np.uint8:  # colour augmentations that keep floats (PhotoMetricDistortion)
                image = image.clip(0, 255).round().astype(np.uint8)
            meta = metainfo
            if sample.metainfo.get(TASK_KEY) is not None:
                meta = metainfo.get("tasks", {}).get(sample.metainfo[TASK_KEY], {})
            picture = draw_ground_truth(
                np.ascontiguousarray(image),
                sample,
                list(meta.get("classes") or []),
                meta.get("palette"),
                True,
            )
            name = Path(sample.metainfo.get("img_path", f"{index}")).stem
            target = out_dir / f"{index:05d}_{name}.png"
            cv2.imwrite(str(target), cv2.cvtColor(picture, cv2.COLOR_RGB2BGR))
            written.append(target)
    except USER_ERRORS as error:
        raise SystemExit(f"error: {error}") from None
    print(f"wrote {len(written)} picture(s) of the {args.split} set after its pipeline to {out_dir}")
    return written


if __name__ == "__main__":
    main()
