"""Training curves from mmengine's scalar logs (``<work_dir>/<timestamp>/vis_data/scalars.json``) as PNG."""

from __future__ import annotations

import json
from pathlib import Path

from .plots import plt, save_figure

TRAIN_ONLY = ("lr", "data_time", "time", "epoch", "iter", "step", "memory")


def read_scalars(path: str | Path) -> tuple[list[dict], list[dict]]:
    """(train records, val records) of one ``scalars.json``: train lines carry ``iter``, val lines don't.

    Raises ``ValueError`` naming the file and line for a line that is not JSON.
    """
    train, val = [], []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"'{path}' line {number} is not JSON: {error}") from None
        (train if "iter" in record else val).append(record)
    return train, val


def find_scalars(work_dir_or_file: str | Path) -> Path:
    """A ``scalars.json`` itself, or the newest one under a work dir; ``FileNotFoundError`` if none."""
    path = Path(work_dir_or_file)
    if path.is_file():
        return path
    found = sorted(path.glob("*/vis_data/scalars.json"))
    if not found:
        raise FileNotFoundError(
            f"No training log under '{path}' (expected {path}/<timestamp>/vis_data/scalars.json, written by "
            "tools/train.py)"
        )
    return found[-1]


def plot_training_curves(train: list[dict], val: list[dict], path: str | Path, title: str = "") -> Path:
    """Losses and learning rate against iteration, val metrics against epoch; one panel each."""
    losses = sorted({k for r in train for k in r if k.startswith("loss")})
    metrics = sorted(
        {k for r in val for k, v in r.items() if k not in TRAIN_ONLY and isinstance(v, (int, float))}
    )
    panels = [("loss", losses, train, "iter"), ("learning rate", ["lr"], train, "iter")]
    panels += [(m, [m], val, "step") for m in metrics]
    panels = [p for p in panels if any(k in r for r in p[2] for k in p[1])]
    fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(4.2 * max(len(panels), 1), 3.4), squeeze=False)
    for ax, (name, keys, records, x_key) in zip(axes.flat, panels, strict=False):
        for key in keys:
            points = [(r[x_key], r[key]) for r in records if key in r and x_key in r]
            xs, ys = zip(*points, strict=True) if points else ((), ())
            ax.plot(xs, ys, marker="o" if len(points) < 30 else None, label=key)
        ax.set(title=name, xlabel="epoch" if x_key == "step" else "iteration")
        ax.grid(alpha=0.3)
        if len(keys) > 1:
            ax.legend()
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
