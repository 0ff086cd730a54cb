"""MultiTaskDataset tagging and TaskBatchSampler: single-task batches, ratio, drop_last, epoch length."""

from collections import Counter

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import DefaultSampler
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from torch.utils.data import Dataset

from visionkit.datasets import MultiTaskDataset, TaskBatchSampler
from visionkit.engine import set_data_root
from visionkit.structures import DataSample


class FakeTaskData(Dataset):
    """``n`` items whose data sample records (name, index); metainfo ``classes`` for the metric."""

    def __init__(self, name: str, n: int) -> None:
        self.name, self.n = name, n
        self.metainfo = {"classes": (f"{name}_class",)}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> dict:
        return {
            "inputs": torch.zeros(3, 4, 4),
            "data_samples": DataSample(metainfo={"origin": (self.name, index)}),
        }


def make(det: int = 10, seg: int = 5) -> MultiTaskDataset:
    return MultiTaskDataset(
        datasets=dict(detection=FakeTaskData("det", det), segmentation=FakeTaskData("seg", seg))
    )


def batches_of(batch_sampler, dataset) -> list[list[str]]:
    return [[dataset.task_of(i) for i in batch] for batch in batch_sampler]


def test_items_are_tagged_with_their_task():
    dataset = make()
    assert len(dataset) == 15
    assert dataset[0]["data_samples"].metainfo == {"origin": ("det", 0), "task": "detection"}
    assert dataset[9]["data_samples"].metainfo["origin"] == ("det", 9)
    assert dataset[10]["data_samples"].metainfo == {"origin": ("seg", 0), "task": "segmentation"}
    assert [dataset.task_of(i) for i in (0, 9, 10, 14)] == ["detection"] * 2 + ["segmentation"] * 2
    assert dataset.metainfo["task_sizes"] == {"detection": 10, "segmentation": 5}
    assert dataset.metainfo["tasks"]["segmentation"] == {"classes": ("seg_class",)}
    with pytest.raises(IndexError):
        dataset[15]


def test_ratio_gives_single_task_batches_in_order_and_a_fixed_epoch_length():
    dataset = make(det=10, seg=5)
    sampler = TaskBatchSampler(
        DefaultSampler(dataset, shuffle=True, seed=0), batch_size=2, ratio=dict(detection=2, segmentation=1)
    )
    # 5 detection batches at 2 per round -> 3 rounds; segmentation (2 full batches) cycles to fill them
    assert len(sampler) == 9
    tasks = batches_of(sampler, dataset)
    assert len(tasks) == 9
    assert all(len(set(batch)) == 1 and len(batch) == 2 for batch in tasks)
    assert [batch[0] for batch in tasks] == ["detection", "detection", "segmentation"] * 3
    seen = Counter(i for batch in sampler for i in batch)
    assert set(range(10)) <= set(seen)  # every detection item in the epoch
    for epoch in (1, 2):
        sampler.sampler.set_epoch(epoch)
        assert len(list(sampler)) == len(sampler) == 9


def test_drop_last_never_gives_a_short_batch():
    dataset = make(det=5, seg=3)
    sampler = TaskBatchSampler(
        DefaultSampler(dataset, shuffle=False), batch_size=2, ratio=dict(detection=1, segmentation=1)
    )
    assert all(len(batch) == 2 for batch in sampler)
    assert len(sampler) == 4  # 2 detection batches (item 4 left out), 1 segmentation batch cycled


def test_no_ratio_gives_every_item_once_spread_over_the_epoch():
    dataset = make(det=6, seg=3)
    sampler = TaskBatchSampler(
        DefaultSampler(dataset, shuffle=False), batch_size=2, ratio=None, drop_last=False
    )
    batches = list(sampler)
    assert sorted(i for batch in batches for i in batch) == list(range(9))
    assert len(sampler) == len(batches) == 5
    assert [batch[0] for batch in batches_of(sampler, dataset)] == [
        "detection",
        "segmentation",
        "detection",
        "segmentation",
        "detection",
    ]
    assert all(len(set(batch)) == 1 for batch in batches_of(sampler, dataset))


def test_wrong_setups_are_refused():
    dataset = make()
    with pytest.raises(ValueError, match="positive integer for every task"):
        TaskBatchSampler(DefaultSampler(dataset), batch_size=2, ratio=dict(detection=1))
    with pytest.raises(ValueError, match="positive integer"):
        TaskBatchSampler(DefaultSampler(dataset), batch_size=2, ratio=dict(detection=1, segmentation=0))
    with pytest.raises(TypeError, match="MultiTaskDataset"):
        TaskBatchSampler(DefaultSampler(FakeTaskData("x", 4)), batch_size=2)
    too_small = TaskBatchSampler(
        DefaultSampler(make(det=4, seg=1)), batch_size=2, ratio=dict(detection=1, segmentation=1)
    )
    with pytest.raises(ValueError, match="fewer items than batch_size"):
        list(too_small)


def test_mmengine_runner_builds_it_from_a_config():
    dataset = make(det=8, seg=4)
    cfg = dict(
        batch_size=2,
        num_workers=0,
        sampler=dict(type="DefaultSampler", shuffle=True),
        batch_sampler=dict(type="TaskBatchSampler", ratio=dict(detection=1, segmentation=1)),
        dataset=dataset,
    )
    with DefaultScope.overwrite_default_scope("visionkit"):
        loader = Runner.build_dataloader(cfg, seed=0)
    assert isinstance(loader.batch_sampler, TaskBatchSampler)
    assert len(loader) == 8
    for batch in loader:
        tasks = {sample.metainfo["task"] for sample in batch["data_samples"]}
        assert len(tasks) == 1 and len(batch["data_samples"]) == 2


def test_data_root_option_reaches_every_task_data_set():
    datasets = dict(
        detection=dict(type="CocoDetection", data_root="a"), segmentation=dict(type="VOCSegmentation")
    )
    cfg = Config(dict(train_dataloader=dict(dataset=dict(type="MultiTaskDataset", datasets=datasets))))
    set_data_root(cfg, "/data")
    children = cfg.train_dataloader.dataset.datasets
    assert children.detection.data_root == children.segmentation.data_root == "/data"
    assert "data_root" not in cfg.train_dataloader.dataset


class RankSampler:
    """Rank 0 of 2: every other index, as mmengine's DefaultSampler shards for DDP."""

    world_size = 2

    def __init__(self, dataset: MultiTaskDataset) -> None:
        self.dataset = dataset

    def __iter__(self):
        return iter(range(0, len(self.dataset), 2))


def test_epoch_length_comes_from_the_per_rank_share():
    """10 detection + 5 segmentation items on 2 ranks, batches of 2: a rank holds 5 detection items
    (2 batches) and 3 segmentation items (1 batch); at 1:1 that is 2 rounds = 4 batches on every rank."""
    dataset = make(det=10, seg=5)
    sampler = TaskBatchSampler(RankSampler(dataset), batch_size=2, ratio=dict(detection=1, segmentation=1))
    assert len(sampler) == 4
    batches = list(sampler)
    assert batches == [[0, 2], [10, 12], [4, 6], [10, 12]]


def test_without_drop_last_the_short_batch_counts():
    """det 10 + seg 5, batches of 3: det 4 batches (3, 3, 3, 1), seg 2 (3, 2); at 1:1, 4 rounds = 8."""
    dataset = make(det=10, seg=5)
    sampler = TaskBatchSampler(
        DefaultSampler(dataset, shuffle=False),
        batch_size=3,
        ratio=dict(detection=1, segmentation=1),
        drop_last=False,
    )
    assert len(sampler) == 8
    assert [len(batch) for batch in sampler] == [3, 3, 3, 2, 3, 3, 1, 2]


def test_batch_size_must_be_positive_and_one_is_allowed():
    dataset = make(det=3, seg=2)
    with pytest.raises(ValueError, match="batch_size must be positive, got 0"):
        TaskBatchSampler(DefaultSampler(dataset), batch_size=0)
    single = TaskBatchSampler(DefaultSampler(dataset, shuffle=False), batch_size=1)
    assert sorted(i for batch in single for i in batch) == list(range(5)) and len(single) == 5
