"""What a COCO-sized annotation file costs the data loader: load time, serialised size, worker memory.

mmengine's ``BaseDataset`` (``serialize_data=True``, the default) pickles every item into one numpy byte
array after loading. Forked dataloader workers then share its pages with the main process: reading an
item unpickles a copy, and the array itself is never written, so it is never copied. A list of Python
dicts would be copied page by page as the workers touch (reference-count) its objects, once per worker.

Memory is read from ``/proc/<pid>/smaps_rollup`` (Linux): RSS counts shared pages in every process, USS
(private clean + dirty) only what a process holds alone, i.e. what each worker adds. Whether a worker
shares the serialised array is read from ``/proc/<pid>/pagemap`` (physical frame of each page; needs
root or CAP_SYS_ADMIN, else the frames read as 0 and sharing is not reported).
"""

from __future__ import annotations

import json
import os
import struct
import time
from pathlib import Path

import numpy as np
from torch.utils.data import DataLoader, Dataset

COCO_TRAIN2017_IMAGES = 118_287
COCO_TRAIN2017_BOXES = 860_001
MIB = 1 << 20


def write_instances_json(
    path: str | Path,
    num_images: int = COCO_TRAIN2017_IMAGES,
    num_boxes: int = COCO_TRAIN2017_BOXES,
    num_classes: int = 80,
    seed: int = 0,
) -> int:
    """Write a synthetic COCO instances file of that size (boxes spread at random over the images, COCO's
    category ids 1..90 with gaps, a 4-corner polygon per box); returns its size in bytes."""
    rng = np.random.default_rng(seed)
    cat_ids = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)][:num_classes]
    widths, heights = rng.integers(320, 641, num_images), rng.integers(240, 481, num_images)
    owner = rng.integers(0, num_images, num_boxes)
    x1, y1 = rng.random(num_boxes) * widths[owner] * 0.8, rng.random(num_boxes) * heights[owner] * 0.8
    w = np.maximum(1.0, rng.random(num_boxes) * (widths[owner] - x1))
    h = np.maximum(1.0, rng.random(num_boxes) * (heights[owner] - y1))
    labels = rng.integers(0, len(cat_ids), num_boxes)
    images = [
        dict(id=i + 1, file_name=f"{i + 1:012d}.jpg", width=int(widths[i]), height=int(heights[i]))
        for i in range(num_images)
    ]
    annotations = []
    for j in range(num_boxes):
        bx, by, bw, bh = (round(float(v), 2) for v in (x1[j], y1[j], w[j], h[j]))
        annotations.append(
            dict(
                id=j + 1,
                image_id=int(owner[j]) + 1,
                category_id=cat_ids[labels[j]],
                bbox=[bx, by, bw, bh],
                area=round(bw * bh, 2),
                iscrowd=0,
                segmentation=[[bx, by, bx + bw, by, bx + bw, by + bh, bx, by + bh]],
            )
        )
    categories = [dict(id=c, name=f"class_{c}", supercategory="thing") for c in cat_ids]
    Path(path).write_text(json.dumps(dict(images=images, annotations=annotations, categories=categories)))
    return Path(path).stat().st_size


def process_memory(pid: int) -> dict[str, int]:
    """``rss`` and ``uss`` (private pages) of process ``pid`` in bytes, from ``/proc/<pid>/smaps_rollup``."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) * 1024
    return dict(rss=fields["Rss"], uss=fields["Private_Clean"] + fields["Private_Dirty"])


def _page_frames(pid: int, first_page: int, num_pages: int) -> list[int]:
    """Physical frame numbers of virtual pages ``first_page ..`` of process ``pid`` (0 if not present)."""
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        pagemap.seek(first_page * 8)
        entries = struct.unpack(f"{num_pages}Q", pagemap.read(num_pages * 8))
    return [entry & ((1 << 55) - 1) if entry >> 63 else 0 for entry in entries]


def shared_fraction(pid: int, array: np.ndarray) -> float | None:
    """Fraction of ``array``'s whole pages that process ``pid`` maps to the same physical memory as this
    process (1.0: nothing copied). None where frame numbers cannot be read or the array spans no page."""
    page = os.sysconf("SC_PAGE_SIZE")
    first = -(-array.ctypes.data // page)  # pages wholly inside the array
    count = (array.ctypes.data + array.nbytes) // page - first
    if count <= 0:
        return None
    mine, theirs = _page_frames(os.getpid(), first, count), _page_frames(pid, first, count)
    if not any(mine):
        return None
    return sum(a == b != 0 for a, b in zip(mine, theirs, strict=True)) / count


def _count(batch: list) -> int:
    return len(batch)


def worker_memory(dataset: Dataset, num_workers: int = 4, batch_size: int = 64) -> list[dict]:
    """Iterate over every item with ``num_workers`` forked workers; each worker's memory at the end:
    ``rss``, ``uss`` and ``shared`` (:func:`shared_fraction` of the dataset's ``data_bytes``, None
    without them).

    Workers are persistent, so they are alive (and measured) after the epoch.
    """
    loader = DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=num_workers,
        persistent_workers=True,
        collate_fn=_count,
        multiprocessing_context="fork",
    )
    iterator = iter(loader)
    total = sum(iterator)
    if total != len(dataset):
        raise RuntimeError(f"the loader gave {total} items of {len(dataset)}")
    data_bytes = getattr(dataset, "data_bytes", None)
    memory = []
    for worker in iterator._workers:
        shared = shared_fraction(worker.pid, data_bytes) if isinstance(data_bytes, np.ndarray) else None
        memory.append(dict(process_memory(worker.pid), shared=shared))
    del iterator, loader
    return memory


def measure_loader(build_dataset, num_workers: int = 4) -> dict:
    """Build the dataset (``build_dataset()``), time it, and measure the main process and its workers.

    Returns ``load_s``, ``items``, ``serialized_bytes`` (0 when the dataset keeps Python lists),
    ``main`` (rss/uss after loading) and ``workers`` (one rss/uss dict per worker).
    """
    start = time.perf_counter()
    dataset = build_dataset()
    load_s = time.perf_counter() - start
    data_bytes = getattr(dataset, "data_bytes", None)
    return dict(
        load_s=load_s,
        items=len(dataset),
        serialized_bytes=int(data_bytes.nbytes) if isinstance(data_bytes, np.ndarray) else 0,
        main=process_memory(os.getpid()),
        workers=worker_memory(dataset, num_workers),
    )


def format_loader_report(name: str, report: dict) -> str:
    """One block of text: load time, size, and per-worker RSS / USS in MiB."""
    lines = [
        f"{name}: {report['items']} images loaded in {report['load_s']:.1f} s; serialised data "
        f"{report['serialized_bytes'] / MIB:.1f} MiB; main process RSS {report['main']['rss'] / MIB:.0f} MiB",
        f"{'worker':>6}  {'RSS MiB':>8}  {'USS MiB':>8}  serialised pages shared with the main process",
    ]
    for i, m in enumerate(report["workers"]):
        shared = "-" if m["shared"] is None else f"{m['shared']:.0%}"
        lines.append(f"{i:>6}  {m['rss'] / MIB:8.0f}  {m['uss'] / MIB:8.0f}  {shared}")
    return "\n".join(lines)
