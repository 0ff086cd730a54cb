"""VOC 2012 segmentation dataset and label loading on the toy set in the real on-disk layout."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from visionkit.datasets import VOC_CLASSES, VOCSegmentation
from visionkit.datasets.toy_data import make_voc_segmentation_set
from visionkit.datasets.toy_data.voc import VOC_CLASSES as TOY_VOC_CLASSES
from visionkit.datasets.transforms import Albumentations, LoadImage, LoadSegMap, PackInputs, read_seg_map

PIPELINE = [LoadImage(), LoadSegMap(), PackInputs()]


@pytest.fixture(scope="module")
def voc_set(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return make_voc_segmentation_set(tmp_path_factory.mktemp("voc"), num_train=4, num_val=2, seed=0)


def test_metainfo_has_the_21_voc_classes_and_palette(voc_set: dict) -> None:
    dataset = VOCSegmentation(data_root=str(voc_set["data_root"]))
    assert dataset.metainfo["classes"] == VOC_CLASSES and len(VOC_CLASSES) == 21
    assert dataset.metainfo["palette"][1] == [128, 0, 0]
    toy = VOCSegmentation(data_root=str(voc_set["data_root"]), metainfo=dict(classes=TOY_VOC_CLASSES))
    assert toy.metainfo["classes"] == TOY_VOC_CLASSES and len(toy.metainfo["palette"]) == len(TOY_VOC_CLASSES)


def test_loads_split_with_raw_palette_indices(voc_set: dict) -> None:
    dataset = VOCSegmentation(
        data_root=str(voc_set["data_root"]), split="ImageSets/Segmentation/val.txt", pipeline=PIPELINE
    )
    assert len(dataset) == 2
    item = dataset[0]
    sample = item["data_samples"]
    seg_map = sample.gt_seg_map
    assert seg_map.dtype == torch.int64 and tuple(seg_map.shape) == tuple(item["inputs"].shape[1:])
    values = set(seg_map.unique().tolist())
    assert 255 in values and values <= set(range(len(TOY_VOC_CLASSES))) | {255}
    png = Image.open(
        sample.metainfo["img_path"].replace("JPEGImages", "SegmentationClass").replace(".jpg", ".png")
    )
    assert png.mode == "P"
    np.testing.assert_array_equal(seg_map.numpy(), np.asarray(png))  # indices, not palette colours
    assert sample.metainfo["ori_shape"] == sample.metainfo["img_shape"] == seg_map.shape


def test_missing_root_says_where_voc_goes(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"VOC 2012 root.*--cfg-options"):
        VOCSegmentation(data_root=str(tmp_path / "nowhere"))


def test_missing_listed_file_is_named(voc_set: dict, tmp_path: Path) -> None:
    split = tmp_path / "split.txt"
    split.write_text("2099_000001\n")
    with pytest.raises(FileNotFoundError, match="2099_000001"):
        VOCSegmentation(data_root=str(voc_set["data_root"]), split=str(split))


def test_mask_size_mismatch_names_the_file(voc_set: dict, tmp_path: Path) -> None:
    mask_path = tmp_path / "small.png"
    Image.fromarray(np.zeros((5, 7), dtype=np.uint8), mode="P").save(mask_path)
    results = {"seg_map_path": str(mask_path), "img_path": "a.jpg", "ori_shape": (6, 7)}
    with pytest.raises(ValueError, match=r"small\.png.*5x7.*a\.jpg"):
        LoadSegMap()(results)


def test_unreadable_or_colour_png_names_the_file(tmp_path: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(OSError, match=r"broken\.png"):
        read_seg_map(str(broken))
    colour = tmp_path / "colour.png"
    Image.fromarray(np.zeros((4, 4, 3), dtype=np.uint8)).save(colour)
    with pytest.raises(ValueError, match=r"colour\.png.*'RGB'"):
        read_seg_map(str(colour))


def test_train_pipeline_keeps_labels_and_ignore(voc_set: dict) -> None:
    crop = 96
    augment = Albumentations(
        transforms=[
            dict(type="RandomScale", scale_limit=(-0.5, 1.0), p=1.0),
            dict(type="PadIfNeeded", min_height=crop, min_width=crop, border_mode=0, fill=0, fill_mask=255),
            dict(type="RandomCrop", height=crop, width=crop),
            dict(type="HorizontalFlip", p=0.5),
        ]
    )
    dataset = VOCSegmentation(
        data_root=str(voc_set["data_root"]), pipeline=[*PIPELINE[:2], augment, PIPELINE[2]]
    )
    allowed = set(range(len(TOY_VOC_CLASSES))) | {255}
    for index in range(len(dataset)):
        item = dataset[index]
        seg_map = item["data_samples"].gt_seg_map
        assert tuple(seg_map.shape) == (crop, crop) == tuple(item["inputs"].shape[1:])
        assert set(seg_map.unique().tolist()) <= allowed  # nearest-neighbour: no blended labels
