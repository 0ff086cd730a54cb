"""Write the toy data sets (coloured shapes over real photos) in their real on-disk formats.

Examples::

    python tools/make_toy_data.py all                      # data/toy/{classification,coco,voc}
    python tools/make_toy_data.py coco --out /tmp/toy --num-train 8 --num-val 2 --force
"""

import argparse
import inspect
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from visionkit.datasets.toy_data import (
    make_classification_set,
    make_coco_detection_set,
    make_voc_segmentation_set,
)

# kind -> (generator, names of its train / val count arguments)
GENERATORS: dict[str, tuple[Callable[..., dict], str, str]] = {
    "classification": (make_classification_set, "num_train_per_class", "num_val_per_class"),
    "coco": (make_coco_detection_set, "num_train", "num_val"),
    "voc": (make_voc_segmentation_set, "num_train", "num_val"),
}
# Written into each target: marks it as ours and, once "complete" is true, as finished with "params"
# and holding "num_files" files besides itself.
STAMP_NAME = ".toy_data.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("kind", choices=[*GENERATORS, "all"], help="which data set to write")
    parser.add_argument(
        "--out", type=Path, default=Path("data/toy"), help="parent folder (default: data/toy)"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument(
        "--num-train", type=int, help="train images (per class for classification; default: the generator's)"
    )
    parser.add_argument("--num-val", type=int, help="val images (per class for classification)")
    parser.add_argument("--force", action="store_true", help="rewrite targets that already exist")
    return parser.parse_args(argv)


def resolve_params(kind: str, seed: int, num_train: int | None, num_val: int | None) -> dict:
    """Keyword arguments for the generator of ``kind``, with its defaults filled in."""
    generator, train_arg, val_arg = GENERATORS[kind]
    defaults = inspect.signature(generator).parameters
    return {
        train_arg: defaults[train_arg].default if num_train is None else num_train,
        val_arg: defaults[val_arg].default if num_val is None else num_val,
        "seed": seed,
    }


def read_stamp(target: Path) -> dict | None:
    try:
        return json.loads((target / STAMP_NAME).read_text())
    except (OSError, ValueError):
        return None


def count_files(target: Path) -> int:
    return sum(1 for path in target.rglob("*") if path.is_file() and path.name != STAMP_NAME)


def is_complete(target: Path, kind: str, params: dict) -> bool:
    """Whether ``target`` holds a finished data set of ``kind`` written with ``params``, no file missing."""
    stamp = read_stamp(target)
    return (
        stamp is not None
        and stamp.get("complete") is True
        and stamp.get("kind") == kind
        and stamp.get("params") == params
        and stamp.get("num_files") == count_files(target)
    )


def write_one(kind: str, target: Path, params: dict, force: bool) -> None:
    """Write one data set into ``target`` unless an identical, complete one is already there."""
    if not force and is_complete(target, kind, params):
        print(f"{kind}: {target} is complete ({params}), skipping; use --force to rewrite it")
        return
    if target.exists() and any(target.iterdir()):
        if read_stamp(target) is None and not force:
            sys.exit(f"{kind}: {target} exists and was not written by this tool; use --force to replace it")
        print(f"{kind}: {target} is incomplete or has other parameters, replacing it")
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    stamp = {"kind": kind, "params": params, "complete": False}
    # Written first, so an interrupted run is recognised as ours and redone.
    (target / STAMP_NAME).write_text(json.dumps(stamp))
    start = time.perf_counter()
    info = GENERATORS[kind][0](target, **params)
    stamp |= {"complete": True, "num_files": count_files(target)}
    (target / STAMP_NAME).write_text(json.dumps(stamp))
    print(f"{kind}: wrote {target} in {time.perf_counter() - start:.1f} s")
    for key, value in info.items():
        print(f"  {key}: {value}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    kinds = list(GENERATORS) if args.kind == "all" else [args.kind]
    for kind in kinds:
        params = resolve_params(kind, args.seed, args.num_train, args.num_val)
        write_one(kind, args.out / kind, params, args.force)


if __name__ == "__main__":
    main()
