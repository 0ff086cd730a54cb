"""tools/train.py's flags for training at scale, so the script stays a short list of steps."""

from __future__ import annotations

import argparse

from mmengine.config import Config

from .amp import AMP_DTYPES
from .train_options import enable_amp, enable_auto_scale_lr, enable_ema, set_randomness


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """``--amp``, ``--amp-dtype``, ``--channels-last``, ``--auto-scale-lr``, ``--ema``, ``--seed``,
    ``--deterministic``."""
    parser.add_argument(
        "--amp",
        action="store_true",
        help="mixed precision: float16 on CUDA, bfloat16 autocast on CPUs with native bfloat16",
    )
    parser.add_argument(
        "--amp-dtype", choices=AMP_DTYPES, help="mixed-precision type (CUDA: float16 default)"
    )
    parser.add_argument(
        "--channels-last",
        action="store_true",
        help="channels-last (NHWC) weights and activations (sets channels_last = True in the config)",
    )
    parser.add_argument(
        "--auto-scale-lr",
        action="store_true",
        help="scale the lr by processes x batch size over the config's auto_scale_lr.base_batch_size",
    )
    parser.add_argument(
        "--ema", action="store_true", help="keep an exponential moving average of the weights"
    )
    parser.add_argument("--seed", type=int, help="random seed (overrides randomness.seed)")
    parser.add_argument("--deterministic", action="store_true", help="deterministic cuDNN kernels")


def apply_scale_arguments(cfg: Config, args: argparse.Namespace) -> None:
    """Apply the flags of :func:`add_scale_arguments` to ``cfg``; ``ValueError`` if one cannot be."""
    if args.amp or args.amp_dtype:
        enable_amp(cfg, args.amp_dtype)
    if args.channels_last:
        cfg.channels_last = True
    if args.auto_scale_lr:
        enable_auto_scale_lr(cfg)
    if args.ema:
        enable_ema(cfg)
    set_randomness(cfg, args.seed, args.deterministic)
