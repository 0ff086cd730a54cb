"""CPU inference latency and throughput of a config's model, side by side with torchvision's.

    python tools/benchmark.py configs/mobilenet_v2_imagenet.py [--threads 2] [--batch 1 8] [--shape 224 224]

Both models run in eval mode on the same random input, in interleaved rounds in one process; the table
gives median and 90th-percentile time per batch, images per second and visionkit's speed relative to
torchvision (> 1 is faster). The reference for a classifier is ``torchvision.models.mobilenet_v2`` with
the config's width multiplier and number of classes.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torchvision
from mmengine.config import DictAction
from mmengine.registry import init_default_scope
from torch import nn

from visionkit.analysis.benchmark import format_timings, time_side_by_side
from visionkit.engine import load_config
from visionkit.registry import MODELS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="batch sizes (default: 1 8)")
    parser.add_argument(
        "--shape", type=int, nargs=2, metavar=("H", "W"), help="input size (default: config's)"
    )
    parser.add_argument("--rounds", type=int, default=30, help="timed rounds per model and batch")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={}, help="override config values"
    )
    return parser.parse_args(argv)


def torchvision_reference(model: nn.Module) -> tuple[str, nn.Module]:
    """torchvision's model of the same architecture as the visionkit task model ``model``."""
    kind = type(model).__name__
    if kind == "ImageClassifier":
        width = model.backbone.widen_factor
        reference = torchvision.models.mobilenet_v2(width_mult=width, num_classes=model.head.fc.out_features)
        return f"torchvision mobilenet_v2 {width:g}", reference
    raise SystemExit(f"no torchvision reference for {kind} yet")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get("default_scope", "visionkit"))
    height, width = args.shape or (cfg.get("image_size", 224),) * 2
    model = MODELS.build(cfg.model).eval()
    ref_name, reference = torchvision_reference(model)
    reference.eval()
    print(
        f"config: {args.config}  input: {height}x{width}  threads: {args.threads}  torch {torch.__version__}"
    )
    timings = []
    for batch in args.batch:
        x = torch.randn(batch, 3, height, width)
        runs = {"visionkit": lambda x=x: model(x, mode="tensor"), ref_name: lambda x=x: reference(x)}
        timings += time_side_by_side(runs, batch, warmup=args.warmup, rounds=args.rounds)
    print(format_timings(timings, reference=ref_name))


if __name__ == "__main__":
    main()
