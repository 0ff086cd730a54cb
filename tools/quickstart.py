"""Quick start on the bundled toy data: generate it, train, evaluate, draw pictures, print a summary table.

    python tools/quickstart.py                       # classification, detection, segmentation in turn
    python tools/quickstart.py detection multitask   # or the ones named
    python tools/quickstart.py --seed 1              # another training seed (same toy data)
    visionkit quickstart                             # the same, from an installed visionkit

For each task it runs these steps, each as a user could run it by hand (here in one process, so that the
libraries are imported once; their output goes to WORK_DIR/TASK/quickstart.log, the console gets one line
per task and the summary):
    python tools/make_toy_data.py KIND               # each data set the task needs
    python tools/train.py CONFIG --work-dir WORK_DIR/TASK [--seed N] [--cfg-options <pretrained backbone>]
    python tools/test.py CONFIG <last checkpoint> --work-dir WORK_DIR/TASK --out WORK_DIR/TASK/predictions.pkl
        --show-dir WORK_DIR/TASK/pictures --show-limit 8
Detection, segmentation and multitask start their backbone from the classification run's checkpoint (as
real runs start from ImageNet weights), so classification is trained first when it is not in this work dir
yet.
Results: WORK_DIR/TASK/{test_metrics.json, predictions.pkl, pictures/*.png, checkpoints and logs}.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import runpy
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import IO

TOOLS = Path(__file__).resolve().parent
# task -> (toy data kinds, config name)
TASKS: dict[str, tuple[tuple[str, ...], str]] = {
    "classification": (("classification",), "mobilenet_v2_toy.py"),
    "detection": (("coco",), "ssdlite_mnv2_toy.py"),
    "segmentation": (("voc",), "deeplabv3lite_mnv2_toy.py"),
    "multitask": (("coco", "voc"), "multitask_mnv2_toy.py"),
}
DEFAULT_TASKS = ("classification", "detection", "segmentation")
PRETRAINED_TASKS = ("detection", "segmentation", "multitask")  # their configs start from the toy classifier
# (metric key suffix, label, scale to percent?) in the order the summary shows them
METRICS = (
    ("top1", "top-1", True),
    ("bbox_mAP", "mAP", False),
    ("bbox_mAP_50", "AP50", False),
    ("mIoU", "mIoU", True),
)
PICTURES = 8
_STEP_LOGS: list[IO[str]] = []  # the steps' open log files (see run_step)


class StepFailed(Exception):
    """A step exited non-zero; the message is its error line and where its full output is."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "tasks",
        nargs="*",
        metavar="TASK",
        help=f"any of {', '.join(TASKS)} (default: {' '.join(DEFAULT_TASKS)})",
    )
    parser.add_argument(
        "--work-dir", type=Path, default=Path("work_dirs/quickstart"), help="parent of the results"
    )
    parser.add_argument("--verbose", action="store_true", help="print every step's output as it runs")
    parser.add_argument(
        "--seed",
        type=int,
        help="training seed (train.py --seed; default: each config's randomness.seed); same toy data",
    )
    args = parser.parse_args(argv)
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    args.tasks = args.tasks or list(DEFAULT_TASKS)
    return args


def config_path(name: str) -> str:
    """``configs/NAME`` when run from a checkout's root, else the shipped copy's path."""
    local = Path("configs") / name
    if local.is_file():
        return local.as_posix()
    sys.path.insert(0, str(TOOLS.parent))
    from visionkit.engine.shipped_configs import shipped_config_path

    return str(shipped_config_path(name))


def error_line(output: str) -> str:
    """The line that says what went wrong: the last ``error:`` line, else the last non-empty one."""
    lines = [line for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:") or "Error:" in line.split(" ")[0]]
    return (errors or lines or ["(no output)"])[-1]


def run_step(*args: str, log: Path | None = None, verbose: bool = False) -> None:
    """Run ``python TOOL ARGS`` (tool paths relative to the tools folder) in this process, its output
    (Python's, the C libraries' and the data loader workers') appended to ``log``.

    In-process rather than a subprocess: torch, mmengine and visionkit are imported once for all the steps
    (about 5 s a step on a 2-core machine). What a step prints is the same as from the command line."""
    command = " ".join(args)
    if verbose or log is None:
        print(f"$ python {command}", flush=True)
        error = _run_tool(args)
        if error is not None:
            raise StepFailed(error if error.startswith("error:") else f"error: step failed: python {command}")
        return
    log.parent.mkdir(parents=True, exist_ok=True)
    # Left open: the step's loggers hold it as their stream, and a late message must not hit a closed file.
    out = log.open("a", buffering=1)
    _STEP_LOGS.append(out)
    with _output_to(out):
        print(f"$ python {command}")
        error = _run_tool(args)
        if error is not None:
            print(error)
    if error is not None:
        raise StepFailed(f"{error_line(log.read_text())}\n(full output: {log})")


def _run_tool(args: tuple[str, ...]) -> str | None:
    """Run ``TOOLS/args[0]`` as ``__main__`` with ``args[1:]`` as its arguments; None, or what went wrong."""
    saved_argv = sys.argv
    sys.argv = [str(TOOLS / args[0]), *args[1:]]
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as exit_:
        if exit_.code not in (None, 0):
            return str(exit_.code) if isinstance(exit_.code, str) else f"exit status {exit_.code}"
    except Exception as exc:  # noqa: BLE001 - a tool's crash is the step's failure, as on the command line
        traceback.print_exc()
        return f"{type(exc).__name__}: {exc}"
    finally:
        sys.argv = saved_argv
        gc.collect()  # the step's runner and model (reference cycles) before the next step builds its own
    return None


@contextlib.contextmanager
def _output_to(out: IO[str]) -> Iterator[None]:
    """Send stdout and stderr to ``out``: Python's streams and file descriptors 1 and 2 (C libraries and
    forked workers write there)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            yield
    finally:
        out.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def last_checkpoint(work_dir: Path) -> str | None:
    marker = work_dir / "last_checkpoint"
    return marker.read_text().strip() if marker.is_file() else None


def seed_args(seed: int | None) -> list[str]:
    return [] if seed is None else ["--seed", str(seed)]


def run_task(task: str, work_root: Path, verbose: bool = False, seed: int | None = None) -> dict:
    """Make the data, train, test with pictures; returns the test metrics."""
    kinds, config_name = TASKS[task]
    config = config_path(config_name)
    work_dir = work_root / task
    log = work_dir / "quickstart.log"
    for kind in kinds:
        run_step("make_toy_data.py", kind, log=log, verbose=verbose)
    train = ["train.py", config, "--work-dir", str(work_dir), *seed_args(seed)]
    if task in PRETRAINED_TASKS:
        train += [
            "--cfg-options",
            f"model.backbone.init_cfg.checkpoint={pretrained_backbone(work_root, verbose, seed)}",
        ]
    run_step(*train, log=log, verbose=verbose)
    run_step(
        "test.py",
        config,
        str(last_checkpoint(work_dir)),
        "--work-dir",
        str(work_dir),
        "--out",
        str(work_dir / "predictions.pkl"),
        "--show-dir",
        str(work_dir / "pictures"),
        "--show-limit",
        str(PICTURES),
        log=log,
        verbose=verbose,
    )
    return json.loads((work_dir / "test_metrics.json").read_text())


def pretrained_backbone(work_root: Path, verbose: bool, seed: int | None = None) -> str:
    """The classification run's checkpoint in ``work_root``; trained now (without testing) if missing."""
    work_dir = work_root / "classification"
    checkpoint = last_checkpoint(work_dir)
    if checkpoint is None:
        print("  (training the classifier first: this task starts from its backbone)")
        log = work_dir / "quickstart.log"
        run_step("make_toy_data.py", "classification", log=log, verbose=verbose)
        run_step("train.py", config_path(TASKS["classification"][1]), "--work-dir", str(work_dir),
                 *seed_args(seed), log=log, verbose=verbose)  # fmt: skip
        checkpoint = last_checkpoint(work_dir)
    return str(checkpoint)


def format_result(metrics: dict) -> str:
    """``top-1 97.5%``, ``mAP 0.612, AP50 0.905``, ``mIoU 81.2%`` from whatever metrics a task returned."""
    parts = []
    for suffix, label, percent in METRICS:
        for key, value in metrics.items():
            names = key.split("/")
            if names[-1] == suffix and isinstance(value, (int, float)):
                prefix = f"{names[0]} " if len(names) > 1 and names[0] in TASKS else ""  # multi-task
                parts.append(f"{prefix}{label} {value:.1f}%" if percent else f"{prefix}{label} {value:.3f}")
    return ", ".join(parts) or "(no metric)"


def summary_table(rows: list[tuple[str, str, str, float]], work_root: Path) -> str:
    """Rows of (task, config, result, minutes) as an aligned text table, then where the pictures are."""
    header = ("task", "config", "result", "minutes")
    cells = [header] + [(t, c, r, f"{m:.1f}") for t, c, r, m in rows]
    cells.append(("total", "", "", f"{sum(r[3] for r in rows):.1f}"))
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True))
        + "  "
        + row[3].rjust(7)
        for row in cells
    ]
    lines.insert(1, "-" * len(lines[0]))
    lines.insert(len(lines) - 1, "-" * len(lines[0]))
    lines.append(f"pictures (ground truth | prediction): {work_root}/<task>/pictures/*.png")
    lines.append(f"metrics, predictions, checkpoints and logs: {work_root}/<task>/")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> list[tuple[str, str, str, float]]:
    args = parse_args(argv)
    print(f"visionkit quick start: {', '.join(args.tasks)} on toy data -> {args.work_dir}/", flush=True)
    rows = []
    for index, task in enumerate(args.tasks, 1):
        config = f"configs/{TASKS[task][1]}"
        print(f"[{index}/{len(args.tasks)}] {task}: toy data, train {config}, test, pictures ...", flush=True)
        start = time.perf_counter()
        try:
            metrics = run_task(task, args.work_dir, args.verbose, args.seed)
        except StepFailed as failure:
            print(f"\n{task} failed.\n", flush=True)
            raise SystemExit(str(failure)) from None
        rows.append((task, config, format_result(metrics), (time.perf_counter() - start) / 60))
        print(f"      {rows[-1][2]} ({rows[-1][3]:.1f} min)", flush=True)
    print("\n" + summary_table(rows, args.work_dir))
    return rows


if __name__ == "__main__":
    main()
