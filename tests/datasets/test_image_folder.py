"""ImageNet-layout and class-per-folder datasets on generated data; bad input gets named."""

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from visionkit.datasets import ImageFolderDataset, ImageNetDataset
from visionkit.datasets.toy_data import TOY_CLASSES, make_classification_set
from visionkit.registry import DATASETS

PIPELINE = [dict(type="LoadImage"), dict(type="PackInputs")]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return make_classification_set(
        tmp_path_factory.mktemp("toy"), num_train_per_class=3, num_val_per_class=2, image_size=32
    )


def test_imagenet_train_and_val_layouts(toy):
    train = ImageNetDataset(data_root=str(toy["root"]), split="train", pipeline=PIPELINE)
    val = ImageNetDataset(data_root=str(toy["root"]), split="val", pipeline=PIPELINE)
    assert train.metainfo["classes"] == TOY_CLASSES == val.metainfo["classes"]
    assert len(train) == 3 * len(TOY_CLASSES) and len(val) == 2 * len(TOY_CLASSES)
    labels = sorted(val.get_data_info(i)["gt_label"] for i in range(len(val)))
    assert labels == sorted(list(range(len(TOY_CLASSES))) * 2)
    sample = train[0]
    assert tuple(sample["inputs"].shape) == (3, 32, 32)
    assert sample["data_samples"].gt_label == train.get_data_info(0)["gt_label"]


def test_class_per_folder_mode(toy):
    dataset = ImageFolderDataset(data_root=str(toy["root"]), data_prefix="train", pipeline=PIPELINE)
    assert dataset.metainfo["classes"] == tuple(sorted(TOY_CLASSES))
    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        assert f"/{dataset.metainfo['classes'][info['gt_label']]}/" in info["img_path"]


def test_missing_data_root_says_where_and_how(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        ImageNetDataset(data_root=str(tmp_path / "imagenet"), split="train", pipeline=PIPELINE)
    message = str(error.value)
    assert str(tmp_path / "imagenet") in message
    assert "--data-root" in message and "--cfg-options" in message


def test_corrupt_image_names_the_file(toy, tmp_path):
    root = tmp_path / "broken"
    (root / "circle").mkdir(parents=True)
    (root / "circle" / "bad.jpg").write_bytes(b"not a jpeg at all")
    dataset = ImageFolderDataset(data_root=str(root), pipeline=PIPELINE, serialize_data=False)
    with pytest.raises(OSError, match=r"bad\.jpg"):
        dataset[0]


def test_built_from_a_config_dict(toy):
    init_default_scope("visionkit")
    dataset = DATASETS.build(
        dict(type="ImageNetDataset", data_root=str(toy["root"]), split="val", pipeline=PIPELINE)
    )
    image = dataset[0]["inputs"].numpy()
    assert image.dtype == np.uint8 and image.std() > 0
