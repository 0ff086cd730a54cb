"""One place for a user's own data: ``custom_data`` in a config sets every split and the class count.

A config that inherits a shipped one (``_base_ = ["visionkit::ssdlite_mnv2_toy.py"]``) cannot re-point
the inherited dataloaders by changing ``data_root`` alone (mmengine evaluates the base first), so it says::

    custom_data = dict(
        data_root="data/my_set",
        classes=("cat", "dog", "bird"),
        train=dict(ann_file="annotations/train.json", data_prefix=dict(img="images/")),
        val=dict(ann_file="annotations/val.json", data_prefix=dict(img="images/")),
        # test=...   (default: the val settings)
    )

and :func:`apply_custom_data` (run by ``load_config``) writes ``data_root``, the split's keys and the
classes (``metainfo.classes``, or ``classes`` for the class-folder data sets) into the train, val and test
datasets (through wrappers such as ``RepeatDataset``)
and sets the model's ``num_classes`` to ``len(classes)``. Each split's keys are that dataset type's own
arguments (``ann_file`` / ``data_prefix`` for ``CocoDetection``, ``split`` for ``VOCSegmentation`` and
``ImageNetDataset``). Whether val's classes equal training's is checked when the data is read
(:class:`~visionkit.engine.hooks.ClassCountCheckHook`).
"""

from __future__ import annotations

import inspect

from mmengine.config import Config, ConfigDict

from ..registry import DATASETS

SPLITS = {"train": "train_dataloader", "val": "val_dataloader", "test": "test_dataloader"}
KNOWN_KEYS = {"data_root", "classes", *SPLITS}


def _leaf_datasets(dataset: dict) -> list[dict]:
    """The datasets that read files: ``dataset`` itself, or those inside wrappers (``dataset=...``)."""
    if isinstance(dataset.get("dataset"), dict):
        return _leaf_datasets(dataset["dataset"])
    return [dataset]


def _set_num_classes(model: dict, count: int) -> list[str]:
    """Set ``num_classes`` of the model's head(s) (``head``, ``decode_head``); the keys set."""
    keys = []
    for name in ("head", "decode_head"):
        if isinstance(model.get(name), dict) and "num_classes" in model[name]:
            model[name]["num_classes"] = count
            keys.append(f"model.{name}.num_classes")
    return keys


def _set_classes(dataset: dict, classes: tuple[str, ...]) -> None:
    """Give ``dataset`` the class names its type takes: its own ``classes`` argument (the class-folder
    data sets) or ``metainfo.classes`` (the annotation-file ones)."""
    dataset_type = DATASETS.get(dataset.get("type")) if isinstance(dataset.get("type"), str) else None
    if dataset_type is not None and "classes" in inspect.signature(dataset_type).parameters:
        dataset["classes"] = classes
    else:
        dataset["metainfo"] = ConfigDict({**dict(dataset.get("metainfo") or {}), "classes": classes})


def _as_list(value: object) -> list:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def apply_custom_data(cfg: Config) -> None:
    """Apply ``cfg.custom_data`` (see the module docstring); nothing without one."""
    custom = cfg.get("custom_data")
    if not custom:
        return
    unknown = sorted(set(custom) - KNOWN_KEYS)
    if unknown:
        raise ValueError(f"custom_data: unknown key(s) {unknown}; expected some of {sorted(KNOWN_KEYS)}")
    if "train" not in custom and "data_root" not in custom:
        raise ValueError("custom_data needs at least data_root or train=dict(...)")
    classes = tuple(custom["classes"]) if custom.get("classes") is not None else None
    for split, loader in SPLITS.items():
        if not cfg.get(loader):
            continue
        settings = dict(custom.get(split) or (custom.get("val") if split == "test" else None) or {})
        for dataset in _leaf_datasets(cfg[loader]["dataset"]):
            if custom.get("data_root") is not None:
                dataset["data_root"] = custom["data_root"]
            dataset.update(settings)
            if classes is not None:
                _set_classes(dataset, classes)
                dataset.pop("label_cat_ids", None)  # the data set's own labels, as below
    if classes is not None:
        _set_num_classes(cfg.model, len(classes))
        # The model now predicts the data set's own labels: a base config's label space (torchvision's
        # COCO detectors: label j = category j + 1) no longer applies.
        for name in ("val_evaluator", "test_evaluator"):
            for evaluator in _as_list(cfg.get(name)):
                if isinstance(evaluator, dict):
                    evaluator.pop("label_cat_ids", None)
