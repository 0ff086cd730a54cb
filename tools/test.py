"""Evaluate a checkpoint on a config's test set and print the metric table.

    python tools/test.py CONFIG CHECKPOINT [--out predictions.pkl] [--work-dir DIR] [--data-root PATH]
        [--show-dir DIR [--show-score-thr 0.3] [--show-limit N]] [--plot-dir DIR] [--verbose]
        [--runtime NAME] [--cfg-options key=value ...] [--launcher none|pytorch|slurm]

Several processes (CPU or GPU, one machine or several): tools/dist_test.sh CONFIG CHECKPOINT N; metrics and
--out predictions are the same as with one process.

CHECKPOINT is a visionkit checkpoint or a torchvision one (path, URL or torchvision://mobilenet_v2), or a
file from tools/export.py, run by a runtime: a .onnx graph (float or INT8) through ONNX Runtime (the deploy
extra; --runtime openvino: OpenVINO on the CPU), a .pte program (float or INT8; one fixed input size) through
ExecuTorch (the mobile extra).
The metrics are also written to WORK_DIR/test_metrics.json. --show-dir writes every test image as a PNG,
ground truth left and prediction right (boxes with names and scores, mask overlays, or the class);
--plot-dir writes the metric's plots (detection: precision-recall curves per class; segmentation: the
confusion matrix).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmengine.config import DictAction
from mmengine.dist import is_main_process
from mmengine.model import is_model_wrapper

from visionkit.deploy import build_runtime_model, is_runtime_file, runtime_names
from visionkit.engine import USER_ERRORS, Runner, load_config
from visionkit.evaluation import set_plot_dir
from visionkit.models import load_checkpoint


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument("checkpoint", help="checkpoint: path, URL or torchvision://NAME")
    parser.add_argument("--out", help="also dump every prediction to this .pkl file")
    parser.add_argument(
        "--runtime",
        help=f"what runs an exported file: {', '.join(runtime_names())} or one a config registers (default: "
        "the file suffix's)",
    )
    parser.add_argument("--work-dir", help="where logs and test_metrics.json go")
    parser.add_argument("--data-root", help="dataset root for every dataloader (overrides the config)")
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config values, e.g. test_dataloader.batch_size=32",
    )
    parser.add_argument("--show-dir", help="write each test image, ground truth beside prediction, here")
    parser.add_argument(
        "--show-score-thr", type=float, default=0.3, help="detection: lowest score drawn (default 0.3)"
    )
    parser.add_argument("--show-limit", type=int, help="draw only the first N test images")
    parser.add_argument("--plot-dir", help="write the metric's plots (PR curves, confusion matrix) here")
    parser.add_argument("--verbose", action="store_true", help="also print the set-up (config, hooks)")
    parser.add_argument("--launcher", choices=["none", "pytorch", "slurm", "mpi"], default="none")
    parser.add_argument("--local-rank", "--local_rank", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    return args


def format_metrics(metrics: dict[str, float]) -> str:
    """A two-column text table of metric names and values."""
    width = max((len(k) for k in metrics), default=6)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  -------"]
    lines += [
        f"{k:<{width}}  {v:.4f}" if isinstance(v, float) else f"{k:<{width}}  {v}" for k, v in metrics.items()
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.data_root)
    cfg.launcher = args.launcher
    cfg.load_from, cfg.resume = None, False
    if args.out:
        if not args.out.endswith((".pkl", ".pickle")):
            raise SystemExit(f"--out must end in .pkl or .pickle, got {args.out}")
        evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
        cfg.test_evaluator = [*evaluators, dict(type="DumpResults", out_file_path=args.out)]
    cfg.custom_hooks = [*cfg.get("custom_hooks", []), dict(type="ProgressBarHook")]
    if args.show_dir:
        show = dict(type="VisualizationHook", out_dir=args.show_dir, score_thr=args.show_score_thr)
        cfg.custom_hooks = [*cfg.get("custom_hooks", []), dict(show, max_images=args.show_limit)]
    if args.plot_dir:
        try:
            set_plot_dir(cfg, args.plot_dir)
        except ValueError as error:  # e.g. classification: no metric plots
            raise SystemExit(f"error: {error}") from None
    cfg.verbose = args.verbose or cfg.get("verbose", False)
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    try:
        if is_runtime_file(args.checkpoint):
            runner.model = build_runtime_model(cfg, args.checkpoint, args.runtime)
        else:
            load_checkpoint(model, args.checkpoint)
        metrics = runner.test()
    except USER_ERRORS as error:  # bad data, checkpoint or setting: the message says what to do
        raise SystemExit(f"error: {error}") from None
    if is_main_process():  # every process holds the metrics; one writes them
        print(format_metrics(metrics))
        os.makedirs(cfg.work_dir, exist_ok=True)
        with open(os.path.join(cfg.work_dir, "test_metrics.json"), "w") as f:
            json.dump(metrics, f, indent=2)
    return metrics


if __name__ == "__main__":
    main()
