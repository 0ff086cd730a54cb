"""Check every image of a config's data split before training: bad files found in minutes, not at hour ten.

    python tools/analysis/check_dataset.py CONFIG [--split train|val|test] [--workers N] [--out DIR]
        [--data-root PATH] [--cfg-options key=value ...]

Each image is decoded as training decodes it, and compared with its annotation: its recorded size, its
boxes (finite, inside the image, labels in range), its segmentation map (readable as class indices, its
image's size, labels in range or 255), its class label. Images are checked by --workers processes (default:
the CPUs this process may use), with a progress bar on a terminal. Written to --out (default: the work
dir, work_dirs/<config name>):

    check_<split>.json          counts, speed (wall and per CPU-second, i.e. per core) and every bad image
                                with what is wrong with it
    exclude_<split>[_N].txt     the bad images, one path per line relative to the data root, after those
                                the config already excludes: the value of the dataset's exclude=... (the
                                option to use it is printed)

Exit status: 0 when every image is fine, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from mmengine.config import DictAction

from visionkit.datasets.exclude_list import read_exclude_list
from visionkit.datasets.sample_checks import check_range, leaf_datasets, use_dataset
from visionkit.engine import USER_ERRORS, load_config
from visionkit.engine.progress import make_progress, show_progress, track
from visionkit.registry import DATASETS

CHUNK = 1024  # at most this many images per task of a worker process (fewer for small splits)


def _usable_cpus() -> int:
    affinity = getattr(os, "sched_getaffinity", None)  # Linux: the CPUs this process may run on
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the pool's workers, once joined)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file, e.g. configs/ssdlite_mnv2_coco.py")
    parser.add_argument("--split", default="train", choices=["train", "val", "test"], help="default: train")
    parser.add_argument("--workers", type=int, default=_usable_cpus(), help="processes (default: all CPUs)")
    parser.add_argument("--out", help="folder for the report and exclude lists (default: the work dir)")
    parser.add_argument("--work-dir", help="work dir (default work_dirs/<config name>)")
    parser.add_argument("--data-root", help="dataset root for every dataloader (overrides the config)")
    parser.add_argument(
        "--cfg-options", nargs="+", action=DictAction, default={}, help="override config values"
    )
    return parser.parse_args(argv)


def check_dataset(dataset, workers: int, label: str) -> list[tuple[dict, list[str]]]:
    """Every bad item of a leaf data set with its problems, checked by ``workers`` processes, in order."""
    size = max(1, min(CHUNK, len(dataset) // (4 * workers)))
    ranges = [(start, min(start + size, len(dataset))) for start in range(0, len(dataset), size)]
    progress = make_progress() if show_progress() else None
    bad: list[tuple[dict, list[str]]] = []
    use_dataset(dataset)
    if workers <= 1:
        for found in track(map(check_range, ranges), len(ranges), label, progress):
            bad += found
        return bad
    # fork: the workers share the built data set (records are not sent to them), and start at once. No
    # cv2.setNumThreads in them: after a fork it waits forever on the parent's OpenCV thread pool.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for found in track(pool.imap(check_range, ranges), len(ranges), label, progress):
            bad += found
    return bad


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.data_root)
    out = Path(args.out or cfg.work_dir)
    out.mkdir(parents=True, exist_ok=True)
    key = f"{args.split}_dataloader.dataset"
    try:
        dataset = DATASETS.build(cfg[f"{args.split}_dataloader"]["dataset"])
        if hasattr(dataset, "full_init"):
            dataset.full_init()
    except USER_ERRORS as error:
        raise SystemExit(f"error: {error}") from None
    start, cpu_start, report, options = time.perf_counter(), _cpu_seconds(), [], []
    leaves = leaf_datasets(dataset, key)
    for number, (leaf_key, leaf) in enumerate(leaves):
        bad = check_dataset(leaf, args.workers, f"checking {leaf_key}")
        exclude = out / f"exclude_{args.split}{f'_{number}' if len(leaves) > 1 else ''}.txt"
        already = sorted(read_exclude_list(leaf.exclude)) if getattr(leaf, "exclude", None) else []
        exclude.write_text("".join(f"{path}\n" for path in [*already, *(r["relative_path"] for r, _ in bad)]))
        report.append(
            dict(
                key=leaf_key,
                data_root=leaf.data_root,
                images=len(leaf),
                bad=[dict(path=record["relative_path"], problems=problems) for record, problems in bad],
                exclude_list=str(exclude),
            )
        )
        if bad:
            options.append(f"{leaf_key}.exclude={exclude}")
    seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
    images = sum(part["images"] for part in report)
    num_bad = sum(len(part["bad"]) for part in report)
    summary = dict(
        config=args.config,
        split=args.split,
        images=images,
        bad_images=num_bad,
        seconds=round(seconds, 2),
        workers=args.workers,
        images_per_second=round(images / seconds, 1),
        cpu_seconds=round(cpu_seconds, 2),
        images_per_cpu_second=round(images / max(cpu_seconds, 1e-9), 1),
        datasets=report,
    )
    (out / f"check_{args.split}.json").write_text(json.dumps(summary, indent=2))
    rates = (
        f"{summary['images_per_second']:.0f} images/s, {summary['images_per_cpu_second']:.0f} per CPU-second"
    )
    print(
        f"Checked {images} images of the {args.split} split in {seconds:.1f} s with {args.workers} processes "
        f"({rates}): {num_bad} bad. Report: {out}/check_{args.split}.json"
    )
    for part in report:
        for entry in part["bad"][:20]:
            print(f"  {entry['path']}: {'; '.join(entry['problems'])}")
    if options:
        print("Leave them out with --cfg-options " + " ".join(options))
    return 1 if num_bad else 0


if __name__ == "__main__":
    sys.exit(main())
