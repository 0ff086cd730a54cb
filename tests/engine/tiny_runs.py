"""Seconds-long training runs of the toy classifier on a generated class-per-folder set."""

from __future__ import annotations

import uuid
from pathlib import Path

from mmengine.config import Config

from visionkit.datasets.toy_data import make_classification_set
from visionkit.engine import load_config

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / "configs" / "mobilenet_v2_toy.py")
TINY = {
    "model.backbone.widen_factor": 0.35,
    "train_cfg.max_epochs": 2,
    "train_cfg.val_interval": 1,
    "default_hooks.checkpoint.interval": 1,
    "default_hooks.logger.interval": 1,
    "train_dataloader.batch_size": 4,
    "train_dataloader.num_workers": 0,
    "train_dataloader.persistent_workers": False,
    "val_dataloader.num_workers": 0,
    "val_dataloader.persistent_workers": False,
}


def make_tiny_set(root: Path) -> Path:
    """4 classes x 2 train + 1 val images of 32 px; returns the data root."""
    return make_classification_set(root, num_train_per_class=2, num_val_per_class=1, image_size=32)["root"]


def tiny_cfg(data_root: Path, work_dir: Path, **options) -> Config:
    cfg = load_config(CONFIG, {**TINY, **options}, work_dir=str(work_dir), data_root=str(data_root))
    cfg.experiment_name = f"tiny_{uuid.uuid4().hex[:8]}"  # mmengine keys loggers by name
    return cfg


def cli_options(**options) -> list[str]:
    """``--cfg-options`` arguments for the tools with :data:`TINY` and ``options``."""
    options = {**TINY, "experiment_name": f"tiny_{uuid.uuid4().hex[:8]}", **options}
    return ["--cfg-options", *(f"{k}={v}" for k, v in options.items())]
