"""Plot a training run's loss, learning rate and val metric curves as a PNG.

    python tools/analysis/plot_logs.py WORK_DIR [WORK_DIR ...] [--out curves.png]

WORK_DIR is a work dir of tools/train.py (its newest run is plotted) or a scalars.json file itself
(<work_dir>/<timestamp>/vis_data/scalars.json, written by mmengine). One PNG per run: by default
<run folder>/curves.png, or --out for a single run.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from visionkit.visualization.training_curves import find_scalars, plot_training_curves, read_scalars


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("runs", nargs="+", help="work dirs or scalars.json files")
    parser.add_argument("--out", type=Path, help="PNG to write (one run only)")
    args = parser.parse_args(argv)
    if args.out and len(args.runs) > 1:
        parser.error("--out takes one run; without it each run's PNG goes beside its log")
    return args


def main(argv: list[str] | None = None) -> list[Path]:
    args = parse_args(argv)
    written = []
    for run in args.runs:
        try:
            scalars = find_scalars(run)
            train, val = read_scalars(scalars)
        except (FileNotFoundError, ValueError) as error:
            raise SystemExit(f"error: {error}") from None
        target = args.out or scalars.parent.parent / "curves.png"
        written.append(plot_training_curves(train, val, target, title=str(run)))
        print(f"{run}: {len(train)} training and {len(val)} val records -> {written[-1]}")
    return written


if __name__ == "__main__":
    main()
