"""A head whose num_classes differs from its data set's classes fails before the first iteration."""

from __future__ import annotations

import pytest
from torch import nn

from visionkit.engine import Runner
from visionkit.engine.hooks import ClassCountMismatchError
from visionkit.engine.hooks.class_count_check_hook import class_count_mismatches

from .tiny_runs import make_tiny_set, tiny_cfg


class _Head(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.num_classes = num_classes


class _MultiTask(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.tasks = nn.ModuleDict(dict(det=nn.Module(), seg=nn.Module()))
        self.tasks["det"].head = _Head(3)
        self.tasks["seg"].decode_head = _Head(5)


def test_multi_task_heads_are_checked_against_their_own_data_set():
    metainfo = {"tasks": {"det": {"classes": ("a", "b", "c")}, "seg": {"classes": ("bg", "a", "b", "c")}}}
    [problem] = class_count_mismatches(_MultiTask(), metainfo, "train")
    assert problem.startswith(
        "model.tasks.seg.decode_head.num_classes is 5 but the train data set has 4 classes"
    )
    assert problem.endswith("set --cfg-options model.tasks.seg.decode_head.num_classes=4")
    assert class_count_mismatches(_MultiTask(), {}, "train") == []  # no classes known: nothing to check


@pytest.mark.slow
def test_training_stops_before_the_first_iteration(tmp_path):
    data_root = make_tiny_set(tmp_path / "toy")
    runner = Runner.from_cfg(tiny_cfg(data_root, tmp_path / "work", **{"model.head.num_classes": 3}))
    with pytest.raises(
        ClassCountMismatchError, match=r"model\.head\.num_classes is 3 but the train data set has 4"
    ) as error:
        runner.train()
    assert "val data set has 4" in str(error.value) and "model.head.num_classes=4" in str(error.value)
    assert runner.iter == 0
