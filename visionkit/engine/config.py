"""Loading a config and applying the command-line overrides the tools share."""

from __future__ import annotations

import importlib.util
import os

from mmengine.config import Config, ConfigDict

from .custom_data import apply_custom_data
from .shipped_configs import install_config_scope, resolve_config_path

DATALOADERS = ("train_dataloader", "val_dataloader", "test_dataloader")


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point every dataloader's dataset (and datasets nested in wrappers) at ``data_root``."""

    def visit(dataset: ConfigDict | None) -> None:
        if not isinstance(dataset, dict):
            return
        if "data_root" in dataset or ("dataset" not in dataset and "datasets" not in dataset):
            dataset["data_root"] = data_root
        visit(dataset.get("dataset"))
        children = dataset.get("datasets", [])
        if isinstance(children, dict):  # MultiTaskDataset names its data sets by task
            children = list(children.values())
        for child in children:
            visit(child)

    for name in DATALOADERS:
        if cfg.get(name):
            visit(cfg[name].get("dataset"))
    cfg.data_root = data_root


def enable_tensorboard(cfg: Config) -> None:
    """Add mmengine's TensorBoard backend to the visualizer (the config switch ``tensorboard = True``).

    Scalars (losses, learning rate, metrics) then also go to ``<work_dir>/<timestamp>/vis_data/``
    as TensorBoard event files: ``tensorboard --logdir work_dirs``.
    """
    if importlib.util.find_spec("tensorboard") is None:
        raise ModuleNotFoundError(
            "tensorboard = True needs TensorBoard: pip install 'visionkit[tensorboard]' "
            "(or pip install tensorboard)"
        )
    visualizer = cfg.setdefault("visualizer", ConfigDict(type="Visualizer"))
    backends = list(visualizer.get("vis_backends") or [dict(type="LocalVisBackend")])
    if not any(b.get("type") == "TensorboardVisBackend" for b in backends):
        backends.append(dict(type="TensorboardVisBackend"))
    visualizer["vis_backends"] = backends


def load_config(
    path: str, cfg_options: dict | None = None, work_dir: str | None = None, data_root: str | None = None
) -> Config:
    """Read ``path`` and apply overrides: ``cfg_options`` first, then ``custom_data``
    (:mod:`.custom_data`), ``data_root``, ``tensorboard`` and ``work_dir``.

    ``path`` may name a shipped config (``visionkit::NAME``, see :mod:`.shipped_configs`). Without
    ``work_dir`` (argument or config) it is ``work_dirs/<config file name>``.
    """
    path = resolve_config_path(path)
    install_config_scope()
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    apply_custom_data(cfg)
    if data_root:
        set_data_root(cfg, data_root)
    if cfg.get("tensorboard", False):
        enable_tensorboard(cfg)
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get("work_dir") is None:
        cfg.work_dir = os.path.join("work_dirs", os.path.splitext(os.path.basename(path))[0])
    return cfg
