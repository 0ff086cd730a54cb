"""Check, before the first iteration, that every head's ``num_classes`` matches its data set's classes."""

from __future__ import annotations

from typing import Any

from mmengine.hooks import Hook
from torch import nn

from ...registry import HOOKS


class ClassCountMismatchError(ValueError):
    """A head predicts a different number of classes than its data set has."""


def class_count_mismatches(model: nn.Module, metainfo: dict, split: str) -> list[str]:
    """One line per head whose ``num_classes`` differs from ``len(metainfo['classes'])``.

    A multi-task model's heads under ``tasks.<task>.`` are checked against ``metainfo['tasks'][task]``
    (:class:`~visionkit.datasets.MultiTaskDataset`). Data sets without ``classes`` are not checked.
    """
    problems = []
    for name, module in model.named_modules():
        count = getattr(module, "num_classes", None)
        if not isinstance(count, int) or not name:
            continue
        info = metainfo
        if name.startswith("tasks."):
            info = (metainfo.get("tasks") or {}).get(name.split(".")[1], {})
        classes = info.get("classes")
        if classes is not None and len(classes) != count:
            problems.append(
                f"model.{name}.num_classes is {count} but the {split} data set has {len(classes)} classes "
                f"({', '.join(map(str, list(classes)[:8]))}{', ...' if len(classes) > 8 else ''}): "
                f"set --cfg-options model.{name}.num_classes={len(classes)}"
            )
    return problems


def split_class_mismatches(train_meta: dict, val_meta: dict) -> list[str]:
    """One line per task whose val classes differ from training's (names in label order).

    A label must mean the same class in both; a multi-task data set is compared task by task.
    """
    pairs = [("", train_meta, val_meta)]
    if "tasks" in train_meta:
        val_tasks = val_meta.get("tasks") or {}
        pairs = [(f"{t} ", m, val_tasks.get(t, {})) for t, m in (train_meta.get("tasks") or {}).items()]
    problems = []
    for task, train, val in pairs:
        train_classes, val_classes = train.get("classes"), val.get("classes")
        if (
            train_classes is not None
            and val_classes is not None
            and tuple(train_classes) != tuple(val_classes)
        ):
            problems.append(
                f"the {task}val data set's classes {tuple(val_classes)} differ from training's "
                f"{tuple(train_classes)}: labels would mean different classes; give both splits the same "
                f"classes in the same order (custom_data.classes, docs/configs.md)"
            )
    return problems


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Raises :class:`ClassCountMismatchError` before training / testing when heads and data disagree,
    or (before training) when the val set's classes differ from the training set's."""

    priority = "VERY_HIGH"

    def _check(self, runner, splits: tuple[str, ...]) -> None:
        model = runner.model.module if hasattr(runner.model, "module") else runner.model
        problems = []
        for split in splits:
            dataset = self._dataset(runner, split)
            if dataset is not None:
                problems += class_count_mismatches(model, dict(getattr(dataset, "metainfo", {}) or {}), split)
        if problems:
            raise ClassCountMismatchError("The model does not fit its data:\n  " + "\n  ".join(problems))

    @staticmethod
    def _dataset(runner, split: str) -> Any:
        loop = getattr(runner, f"_{split}_loop", None)
        dataloader = getattr(loop, "dataloader", None)
        return getattr(dataloader, "dataset", None)

    def before_train(self, runner) -> None:
        self._check(runner, ("train", "val"))
        train, val = self._dataset(runner, "train"), self._dataset(runner, "val")
        if train is not None and val is not None:
            problems = split_class_mismatches(
                dict(getattr(train, "metainfo", {}) or {}), dict(getattr(val, "metainfo", {}) or {})
            )
            if problems:
                raise ClassCountMismatchError("The data sets do not agree:\n  " + "\n  ".join(problems))

    def before_val(self, runner) -> None:
        self._check(runner, ("val",))

    def before_test(self, runner) -> None:
        self._check(runner, ("test",))
