"""Train a model from a config with mmengine's Runner.

    python tools/train.py configs/mobilenet_v2_imagenet.py [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--channels-last] [--auto-scale-lr] [--ema] [--seed N] [--deterministic] [--data-root PATH]
        [--skip-bad-samples N] [--verbose] [--cfg-options key=value ...] [--launcher none|pytorch|slurm]

The set-up (environment, config, hooks) is written to the log file in the work dir; --verbose also prints it.

A run resumed with --resume continues bit-identically to an uninterrupted one (same machine and thread
count). SIGTERM or SIGUSR1 stops it after the current step and a checkpoint: the exit status is then
128 + the signal (143, 138), which tools/slurm_train.sh requeues on; other errors exit with 1.

Several processes, GPUs or machines: tools/dist_train.sh (torchrun + DDP) or tools/slurm_train.sh; see
docs/training_at_scale.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmengine.config import DictAction

from visionkit.engine import USER_ERRORS, Runner, load_config
from visionkit.engine.preemption import TrainingPreempted
from visionkit.engine.train_arguments import add_scale_arguments, apply_scale_arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file, e.g. configs/mobilenet_v2_imagenet.py")
    parser.add_argument("--work-dir", help="where logs and checkpoints go (default work_dirs/<config name>)")
    parser.add_argument(
        "--resume",
        nargs="?",
        const="auto",
        default=None,
        metavar="CKPT",
        help="resume training: from CKPT, or without a value from the last checkpoint in the work dir",
    )
    add_scale_arguments(parser)
    parser.add_argument("--data-root", help="dataset root for every dataloader (overrides the config)")
    parser.add_argument(
        "--skip-bad-samples",
        type=int,
        metavar="N",
        help="skip up to N unreadable training samples, logging each (train_cfg.max_bad_samples); "
        "default: stop at the first, naming the file",
    )
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config values, e.g. train_dataloader.batch_size=32",
    )
    parser.add_argument("--verbose", action="store_true", help="also print the set-up (config, hooks)")
    parser.add_argument(
        "--launcher",
        choices=["none", "pytorch", "slurm", "mpi"],
        default="none",
        help="job launcher; tools/dist_train.sh sets pytorch",
    )
    parser.add_argument("--local-rank", "--local_rank", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.data_root)
    cfg.launcher = args.launcher
    cfg.verbose = args.verbose or cfg.get("verbose", False)
    try:
        apply_scale_arguments(cfg, args)
    except ValueError as error:  # a flag this config or machine cannot honour
        raise SystemExit(f"error: {error}") from None
    if args.skip_bad_samples is not None:
        cfg.train_cfg.max_bad_samples = args.skip_bad_samples
    if args.resume == "auto":
        cfg.resume, cfg.load_from = True, None
    elif args.resume:
        cfg.resume, cfg.load_from = True, args.resume
    try:
        Runner.from_cfg(cfg).train()
    except TrainingPreempted as stop:  # a checkpoint is written: the status says "requeue me"
        print(stop, file=sys.stderr)
        raise SystemExit(stop.exit_code) from None
    except USER_ERRORS as error:  # bad data, checkpoint or setting, or a diverged run: the message says what
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
