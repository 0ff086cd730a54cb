"""Quick start on the bundled toy data: generate it if missing, train, evaluate, write results.

    python tools/quickstart.py                       # classification, detection, segmentation in turn
    python tools/quickstart.py detection multitask   # or the ones named

For each task it runs, as separate steps a user could run by hand:
    python tools/make_toy_data.py KIND               # each data set the task needs
    python tools/train.py CONFIG --work-dir work_dirs/quickstart/TASK
    python tools/test.py CONFIG <last checkpoint> --work-dir ... --out .../predictions.pkl
Results: work_dirs/quickstart/TASK/{test_metrics.json, predictions.pkl, checkpoints and logs}.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# task -> (toy data kinds, config)
TASKS: dict[str, tuple[tuple[str, ...], str]] = {
    "classification": (("classification",), "configs/mobilenet_v2_toy.py"),
    "detection": (("coco",), "configs/ssdlite_mnv2_toy.py"),
    "segmentation": (("voc",), "configs/deeplabv3lite_mnv2_toy.py"),
    "multitask": (("coco", "voc"), "configs/multitask_mnv2_toy.py"),
}
DEFAULT_TASKS = ("classification", "detection", "segmentation")


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
    args = parser.parse_args(argv)
    unknown = [t for t in args.tasks if t not in TASKS]
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)}; choose from {', '.join(TASKS)}")
    args.tasks = args.tasks or list(DEFAULT_TASKS)
    return args


def run_step(*args: str) -> None:
    print("$ python " + " ".join(args), flush=True)
    subprocess.run([sys.executable, *args], cwd=REPO, check=True)


def run_task(task: str, work_root: Path) -> dict:
    kinds, config = TASKS[task]
    work_dir = work_root / task
    for kind in kinds:
        run_step("tools/make_toy_data.py", kind)
    run_step("tools/train.py", config, "--work-dir", str(work_dir))
    checkpoint = (work_dir / "last_checkpoint").read_text().strip()
    run_step(
        "tools/test.py",
        config,
        checkpoint,
        "--work-dir",
        str(work_dir),
        "--out",
        str(work_dir / "predictions.pkl"),
    )
    return json.loads((work_dir / "test_metrics.json").read_text())


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    summary = {}
    for task in args.tasks:
        start = time.perf_counter()
        summary[task] = run_task(task, args.work_dir)
        summary[task]["minutes"] = round((time.perf_counter() - start) / 60, 1)
    print("\nquick start results (written under " + str(args.work_dir) + "):")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
