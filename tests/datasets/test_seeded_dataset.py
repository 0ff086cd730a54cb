"""The training data set: a sample's augmentation follows its seed only; bad samples stop or are skipped."""

from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub
from torch.utils.data import DataLoader

from visionkit.datasets import BadSampleError, ImageNetDataset, SeededDataset, bad_samples, exclude_list
from visionkit.datasets.bad_samples import BadSampleCounter, skipped_in_batch
from visionkit.datasets.sample_seeds import SeededIndex
from visionkit.datasets.samplers import DefaultSampler
from visionkit.datasets.toy_data import make_classification_set

PIPELINE = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="RandomResizedCrop", size=(24, 24), scale=(0.3, 1.0)),
            dict(type="HorizontalFlip"),
        ],
    ),
    dict(type="PackInputs"),
]


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return make_classification_set(
        tmp_path_factory.mktemp("seeded"), num_train_per_class=3, num_val_per_class=1, image_size=32
    )["root"]


def _dataset(root: Path, **kwargs) -> SeededDataset:
    return SeededDataset(dict(type="ImageNetDataset", data_root=str(root), pipeline=PIPELINE), **kwargs)


def _epoch(dataset: SeededDataset, workers: int, start: int = 0) -> list[torch.Tensor]:
    sampler = DefaultSampler(dataset, seed=0)
    sampler.set_epoch(1)
    sampler.start_at(start)
    loader = DataLoader(
        dataset, batch_size=1, sampler=sampler, num_workers=workers, collate_fn=lambda batch: batch[0]
    )
    return [item["inputs"] for item in loader]


def test_augmentations_depend_on_the_sample_seed_not_on_workers_or_history(root):
    dataset = _dataset(root)
    alone = _epoch(dataset, workers=0)
    assert len({tuple(x.flatten().tolist()) for x in alone}) == len(alone)
    assert all(torch.equal(a, b) for a, b in zip(alone, _epoch(dataset, workers=2), strict=True))
    # a resumed epoch (starting at sample 5 in fresh workers) draws what the uninterrupted one drew
    assert all(torch.equal(a, b) for a, b in zip(alone[5:], _epoch(dataset, workers=2, start=5), strict=True))
    # the same index under another seed (another epoch or position) is augmented differently
    assert not torch.equal(dataset[SeededIndex(0, 1)]["inputs"], dataset[SeededIndex(0, 2)]["inputs"])


def test_loading_in_the_main_process_leaves_its_generators_alone(root):
    dataset = _dataset(root)
    torch.manual_seed(0)
    np.random.seed(0)
    expected = (torch.rand(3), np.random.rand(3))
    torch.manual_seed(0)
    np.random.seed(0)
    dataset[SeededIndex(2, 77)]
    assert torch.equal(torch.rand(3), expected[0]) and np.array_equal(np.random.rand(3), expected[1])


def _corrupt(root: Path) -> str:
    path = sorted((root / "train").rglob("*.JPEG"))[4]
    path.write_bytes(path.read_bytes()[:100])  # a truncated download
    return str(path)


def test_a_bad_sample_stops_loading_naming_the_file_by_default(tmp_path):
    root = make_classification_set(tmp_path, num_train_per_class=2, num_val_per_class=1, image_size=32)[
        "root"
    ]
    bad = _corrupt(Path(root))
    dataset = _dataset(root)
    index = next(i for i in range(len(dataset)) if dataset.get_data_info(i)["img_path"] == bad)
    with pytest.raises(
        BadSampleError, match=rf"Cannot read image '{bad}'.*check_dataset\.py.*skip-bad-samples"
    ):
        dataset[SeededIndex(index, 3)]


def test_a_skipped_bad_sample_is_replaced_the_same_way_each_time_and_recorded(tmp_path):
    root = make_classification_set(tmp_path, num_train_per_class=2, num_val_per_class=1, image_size=32)[
        "root"
    ]
    bad = _corrupt(Path(root))
    dataset = _dataset(root, skip_bad_samples=True)
    index = next(i for i in range(len(dataset)) if dataset.get_data_info(i)["img_path"] == bad)
    item, again = dataset[SeededIndex(index, 3)], dataset[SeededIndex(index, 3)]
    assert torch.equal(item["inputs"], again["inputs"])
    assert item["data_samples"].img_path != bad
    [message] = skipped_in_batch({"data_samples": [item["data_samples"]]})
    assert bad in message


def _logged(monkeypatch, module) -> list[str]:
    messages: list[str] = []
    monkeypatch.setattr(module, "print_log", lambda message, **kwargs: messages.append(message))
    return messages


def test_the_counter_logs_each_skip_and_stops_past_its_limit(monkeypatch):
    logged = _logged(monkeypatch, bad_samples)
    hub = MessageHub.get_instance("bad_sample_counter_test")
    runner = type("Runner", (), {"message_hub": hub})()
    counter = BadSampleCounter(max_bad_samples=2)
    sample = type("Sample", (), {"skipped_samples": ["Cannot read image 'a.jpg'"]})()
    counter.update(runner, {"data_samples": [sample]})
    counter.update(runner, {"data_samples": [object(), sample]})
    assert hub.get_info(BadSampleCounter.INFO_KEY) == 2  # kept in the checkpointed message hub
    assert [m.split(":")[0] for m in logged] == [f"Skipped a bad sample ({n} of at most 2)" for n in (1, 2)]
    with pytest.raises(BadSampleError, match=r"3 bad samples skipped, more than train_cfg.max_bad_samples=2"):
        counter.update(runner, {"data_samples": [sample]})


def test_an_exclude_list_leaves_its_images_out_and_names_unmatched_lines(root, tmp_path, monkeypatch):
    logged = _logged(monkeypatch, exclude_list)
    full = ImageNetDataset(data_root=str(root))
    paths = [full.get_data_info(i)["img_path"] for i in range(len(full))]
    listed = tmp_path / "exclude.txt"
    relative = Path(paths[1]).relative_to(root)
    listed.write_text(f"# bad files\n{relative}\n{paths[3]}\ntrain/nowhere.JPEG\n")
    kept = ImageNetDataset(data_root=str(root), exclude=str(listed))
    assert [kept.get_data_info(i)["img_path"] for i in range(len(kept))] == paths[:1] + paths[2:3] + paths[4:]
    assert logged[-1].endswith("left out 2 of 12 images; 1 listed paths match none, e.g. train/nowhere.JPEG")
