"""tools/dataset_converters on mock trees in the official layouts: SBD -> trainaug, ImageNet devkit -> val
labels; then the datasets read what they wrote."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.recipe_trees import WNIDS, make_imagenet, make_voc_sbd
from tests.tools.run_tool import load_tool
from visionkit.datasets import ImageNetDataset, VOCSegmentation

voc_aug = load_tool("dataset_converters/voc_aug")
imagenet_val = load_tool("dataset_converters/imagenet_val")


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def test_voc_aug_writes_labels_and_the_trainaug_list(tmp_path) -> None:
    tree = make_voc_sbd(tmp_path)
    voc_aug.main([str(tree["devkit"]), str(tree["sbd"])])
    ids, labels, voc = tree["ids"], tree["labels"], tree["voc"]
    split_dir = voc / "ImageSets" / "Segmentation"
    # SBD train + SBD val + VOC train, minus VOC val (mmsegmentation's voc_aug.py), sorted
    assert (split_dir / "trainaug.txt").read_text().split() == sorted(ids[k] for k in "abcfgh")
    assert (split_dir / "aug.txt").read_text().split() == sorted(ids[k] for k in "fgh")
    out = voc / "SegmentationClassAug"
    for key in "fghe":  # SBD's GTcls.Segmentation, as index PNGs
        np.testing.assert_array_equal(read_png(out / f"{ids[key]}.png"), labels[("sbd", key)])
    for key in "abc":  # VOC train: VOC's own labels (borders 255), also where SBD has the image (b)
        np.testing.assert_array_equal(read_png(out / f"{ids[key]}.png"), labels[("voc", key)])
    assert (voc / "JPEGImages" / f"{ids['h']}.jpg").is_file()  # copied from SBD's img/
    dataset = VOCSegmentation(
        data_root=str(voc), split="ImageSets/Segmentation/trainaug.txt", ann_dir="SegmentationClassAug"
    )
    assert len(dataset) == 6 and dataset.get_data_info(0)["img_id"] == ids["a"]


def test_the_shared_train_aug_list_with_path_pairs(tmp_path) -> None:
    """train_aug.txt as shared with SegmentationClassAug.zip: per line '/JPEGImages/<id>.jpg
    /SegmentationClassAug/<id>.png'."""
    tree = make_voc_sbd(tmp_path)
    voc_aug.main([str(tree["devkit"]), str(tree["sbd"])])
    ids = [tree["ids"][k] for k in "abcfgh"]
    pairs = tree["voc"] / "ImageSets" / "Segmentation" / "train_aug.txt"
    pairs.write_text("".join(f"/JPEGImages/{i}.jpg /SegmentationClassAug/{i}.png\n" for i in ids))
    dataset = VOCSegmentation(data_root=str(tree["voc"]), split="ImageSets/Segmentation/train_aug.txt")
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [i["img_id"] for i in infos] == ids
    assert infos[0]["seg_map_path"] == str(tree["voc"] / "SegmentationClassAug" / f"{ids[0]}.png")
    pairs.write_text("/JPEGImages/a.jpg /SegmentationClassAug/a.png extra\n")
    with pytest.raises(
        ValueError, match=r"train_aug\.txt:1: expected an image id or 'image_path label_path'"
    ):
        VOCSegmentation(data_root=str(tree["voc"]), split="ImageSets/Segmentation/train_aug.txt")


def test_voc_aug_names_a_file_that_is_not_sbds(tmp_path) -> None:
    tree = make_voc_sbd(tmp_path)
    bad = tree["sbd"] / "dataset" / "cls" / f"{tree['ids']['f']}.mat"
    from scipy.io import savemat

    savemat(bad, {"GTinst": {"Segmentation": np.zeros((4, 4), np.uint8)}})
    with pytest.raises(SystemExit, match=rf"{bad.name}.*GTcls"):
        voc_aug.main([str(tree["devkit"]), str(tree["sbd"])])


def test_imagenet_val_labels_from_the_devkit(tmp_path) -> None:
    """The devkit numbers classes by ILSVRC2012_ID (here 1 = n01443537, 2 = n01440764); labels are positions
    in the sorted wnids. Without meta/classes.txt both splits take train's wnids as class names."""
    tree = make_imagenet(tmp_path / "imagenet")
    imagenet_val.main([str(tree["devkit"]), "--root", str(tree["root"])])
    lines = (tree["root"] / "meta" / "val.txt").read_text().split("\n")
    assert lines[0] == "ILSVRC2012_val_00000001.JPEG 0" and lines[2] == "ILSVRC2012_val_00000003.JPEG 1"
    train = ImageNetDataset(data_root=str(tree["root"]), split="train")
    val = ImageNetDataset(data_root=str(tree["root"]), split="val")
    assert train.metainfo["classes"] == WNIDS == val.metainfo["classes"]
    assert [val.get_data_info(i)["gt_label"] for i in range(len(val))] == tree["val_labels"]


def test_imagenet_val_into_class_folders(tmp_path) -> None:
    tree = make_imagenet(tmp_path / "imagenet")
    imagenet_val.main([str(tree["devkit"]), "--root", str(tree["root"]), "--layout", "folders"])
    val = ImageNetDataset(data_root=str(tree["root"]), split="val")  # no meta/val.txt: class folders
    assert val.metainfo["classes"] == WNIDS
    labels = sorted(val.get_data_info(i)["gt_label"] for i in range(len(val)))
    assert labels == sorted(tree["val_labels"])
    for i in range(len(val)):
        info = val.get_data_info(i)
        assert f"/{WNIDS[info['gt_label']]}/" in info["img_path"]


def test_imagenet_val_refuses_train_folders_that_are_not_the_devkits(tmp_path) -> None:
    tree = make_imagenet(tmp_path / "imagenet")
    (tree["root"] / "train" / "n99999999").mkdir()
    with pytest.raises(SystemExit, match="not the devkit's 3 wnids"):
        imagenet_val.main([str(tree["devkit"]), "--root", str(tree["root"])])


def test_a_val_folder_of_an_unknown_class_is_named(tmp_path) -> None:
    tree = make_imagenet(tmp_path / "imagenet")
    imagenet_val.main([str(tree["devkit"]), "--root", str(tree["root"]), "--layout", "folders"])
    (tree["root"] / "val" / WNIDS[0]).rename(tree["root"] / "val" / "n00000001")
    with pytest.raises(ValueError, match="n00000001"):
        ImageNetDataset(data_root=str(tree["root"]), split="val")
