"""Run each full-scale recipe for N iterations on the real data; report images/s, memory and the loss curve.

    python tools/recipe_check.py [RECIPE ...] [--iters 50] [--imagenet data/imagenet] [--coco data/coco]
        [--voc data/VOCdevkit/VOC2012] [--batch-size N] [--workers N] [--no-auto-scale-lr]
        [--cfg-options key=value ...] [--json results.json]

RECIPE is one of the names below (default: all). Each runs through mmengine's Runner exactly as
tools/train.py would (the config's model, init, optimizer, schedulers, EMA, pipeline and data), limited to
--iters iterations, without validation or checkpoints. The first person with GPUs and the data sets
confirms with it that every recipe starts as it should (finite losses that fall, the expected speed and
memory) before committing days of GPU time. On one GPU the lr is scaled to the batch it runs
(--auto-scale-lr) unless --no-auto-scale-lr.

Reported per recipe: images per second over the iterations after the first fifth (data loading included),
peak memory (GPU: torch.cuda.max_memory_allocated; CPU: the process's peak resident set), and the loss of
every iteration. No GPU here: tests/tools/test_recipe_check.py runs it on CPU on mock trees in the official
layouts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
import uuid
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
from mmengine.config import Config, DictAction
from mmengine.hooks import Hook

from visionkit.engine import Runner, load_config
from visionkit.engine.train_options import enable_auto_scale_lr

# name: (shipped config, which data root it reads)
RECIPES = {
    "imagenet_tf_slim": ("mobilenet_v2_imagenet.py", "imagenet"),
    "imagenet_torchvision": ("mobilenet_v2_imagenet_torchvision.py", "imagenet"),
    "ssdlite_paper": ("ssdlite_mnv2_coco.py", "coco"),
    "ssdlite_mmdet": ("ssdlite_mnv2_mmdet_coco.py", "coco"),
    "ssdlite320_torchvision": ("ssdlite320_mnv3_large_coco.py", "coco"),
    "deeplab_coco_stage": ("deeplabv3lite_mnv2_coco_voc.py", "coco"),
    "deeplab_voc_trainaug": ("deeplabv3lite_mnv2_voc.py", "voc"),
}


class RecipeProbe(Hook):
    """Records each training iteration's wall time (from the end of the previous one, so data loading
    counts), batch size and loss."""

    priority = "VERY_LOW"

    def __init__(self) -> None:
        self.times: list[float] = []
        self.images: list[int] = []
        self.losses: list[float] = []
        self._last = 0.0

    def before_train(self, runner) -> None:
        self._last = time.perf_counter()

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        now = time.perf_counter()
        self.times.append(now - self._last)
        self._last = now
        self.images.append(len(data_batch["inputs"]))
        self.losses.append(float(outputs["loss"].detach()))


def recipe_cfg(name: str, args: argparse.Namespace) -> Config:
    """The recipe's config with its data root, limited to ``args.iters`` training iterations."""
    config, data = RECIPES[name]
    cfg = load_config(f"visionkit::{config}", dict(args.cfg_options), data_root=getattr(args, data))
    cfg.work_dir = os.path.join(args.work_dir, name)
    cfg.experiment_name = f"{name}_{uuid.uuid4().hex[:8]}"
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=args.iters, val_interval=args.iters + 1)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger = dict(type="LoggerHook", interval=max(1, args.iters // 10))
    cfg.log_processor = dict(type="LogProcessor", window_size=1, by_epoch=False)
    if args.batch_size is not None:
        cfg.train_dataloader.batch_size = args.batch_size
    if args.workers is not None:
        cfg.train_dataloader.num_workers = args.workers
        cfg.train_dataloader.persistent_workers = args.workers > 0
    if not args.no_auto_scale_lr:
        enable_auto_scale_lr(cfg)
    return cfg


def run_recipe(name: str, args: argparse.Namespace) -> dict:
    cfg = recipe_cfg(name, args)
    runner = Runner.from_cfg(cfg)
    probe = RecipeProbe()
    runner.register_hook(probe)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    runner.train()
    skip = len(probe.times) // 5  # start-up: workers, cuDNN autotuning
    timed_images, timed_s = sum(probe.images[skip:]), sum(probe.times[skip:])
    if torch.cuda.is_available():
        memory_mb, memory_kind = torch.cuda.max_memory_allocated() / 2**20, "GPU"
    else:  # Linux reports ru_maxrss in KiB
        memory_mb, memory_kind = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "CPU RSS"
    return {
        "recipe": name,
        "config": RECIPES[name][0],
        "iterations": len(probe.losses),
        "batch_size": probe.images[0] if probe.images else 0,
        "images_per_s": timed_images / timed_s if timed_s > 0 else math.nan,
        "peak_memory_mb": memory_mb,
        "memory": memory_kind,
        "losses": probe.losses,
    }


def format_result(result: dict) -> str:
    losses = result["losses"]
    shown = losses if len(losses) <= 12 else [*losses[:: max(1, len(losses) // 10)], losses[-1]]
    curve = " ".join(f"{v:.3f}" for v in shown)
    return (
        f"{result['recipe']:<24} {result['config']:<36} {result['iterations']:>5} it x "
        f"{result['batch_size']:<4} {result['images_per_s']:8.1f} img/s  "
        f"{result['peak_memory_mb']:8.0f} MB ({result['memory']})\n"
        f"    loss: {curve}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "recipes", nargs="*", choices=[[], *RECIPES], metavar="RECIPE", help=", ".join(RECIPES)
    )
    parser.add_argument("--iters", type=int, default=50, help="training iterations per recipe (default 50)")
    parser.add_argument("--imagenet", default="data/imagenet", help="ImageNet root (train/, val/, meta/)")
    parser.add_argument("--coco", default="data/coco", help="COCO 2017 root (annotations/, train2017/ ...)")
    parser.add_argument("--voc", default="data/VOCdevkit/VOC2012", help="VOC 2012 root, with trainaug built")
    parser.add_argument("--batch-size", type=int, help="images per process instead of the recipe's")
    parser.add_argument("--workers", type=int, help="dataloader workers instead of the recipe's")
    parser.add_argument("--no-auto-scale-lr", action="store_true", help="keep the recipe's lr at any batch")
    parser.add_argument(
        "--work-dir", default="work_dirs/recipe_check", help="logs go under WORK_DIR/<recipe>"
    )
    parser.add_argument("--json", help="also write the results (losses included) to this JSON file")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={}, help="overrides for every recipe"
    )
    args = parser.parse_args(argv)
    if args.iters < 1:
        parser.error("--iters must be at least 1")
    return args


def main(argv: list[str] | None = None) -> list[dict]:
    args = parse_args(argv)
    results = []
    for name in args.recipes or list(RECIPES):
        results.append(run_recipe(name, args))
        print(format_result(results[-1]), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
