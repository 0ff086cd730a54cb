"""docs/detection.md's "own COCO-format data" recipe, followed word for word on data laid out as it says.

The config block is read from the doc itself; the data is the toy COCO set moved into the doc's layout
with three of its categories renamed to the doc's class names.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from mmengine.registry import init_default_scope

from visionkit.datasets.coco_checks import AnnotationError
from visionkit.datasets.toy_data import make_coco_detection_set
from visionkit.engine import load_config
from visionkit.engine.hooks.class_count_check_hook import split_class_mismatches
from visionkit.registry import DATASETS

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "detection.md"
DOC_CLASSES = ("cat", "dog", "bird")


def doc_config() -> str:
    """The python block after "then write `my_detector.py`:" in docs/detection.md."""
    text = DOC.read_text()
    return re.search(r"then write `my_detector.py`:\n\n```python\n(.*?)```", text, re.S).group(1)


def write_split(toy: dict, split: str, root: Path, categories: dict[int, str]) -> None:
    """Move one toy split into root/images and root/annotations/<split>.json, keeping ``categories`` only."""
    data = json.loads(Path(toy[f"{split}_ann"]).read_text())
    data["categories"] = [
        dict(c, name=categories[c["id"]]) for c in data["categories"] if c["id"] in categories
    ]
    data["annotations"] = [a for a in data["annotations"] if a["category_id"] in categories]
    (root / "annotations").mkdir(parents=True, exist_ok=True)
    (root / "annotations" / f"{split}.json").write_text(json.dumps(data))
    (root / "images").mkdir(exist_ok=True)
    for image in Path(toy[f"{split}_dir"]).iterdir():
        shutil.move(str(image), root / "images" / image.name)


@pytest.fixture
def my_set(tmp_path, monkeypatch):
    """tmp_path as the working folder, holding data/my_set in the doc's layout and my_detector.py."""
    toy = make_coco_detection_set(tmp_path / "toy", num_train=4, num_val=2, image_size=64)
    ids = sorted(toy["categories"])[:3]
    root = tmp_path / "data" / "my_set"
    for split in ("train", "val"):
        write_split(toy, split, root, dict(zip(ids, DOC_CLASSES, strict=True)))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "my_detector.py").write_text(doc_config())
    monkeypatch.chdir(tmp_path)
    init_default_scope("visionkit")
    return root


@pytest.mark.slow
def test_the_doc_config_points_train_val_and_test_at_the_users_data(my_set):
    cfg = load_config("elsewhere/my_detector.py")  # a config outside configs/, inheriting visionkit::
    assert cfg.model.head.num_classes == 3
    expected = {
        "train_dataloader": "annotations/train.json",
        "val_dataloader": "annotations/val.json",
        "test_dataloader": "annotations/val.json",
    }
    for loader, ann_file in expected.items():
        dataset = DATASETS.build(cfg[loader].dataset)
        assert dataset.metainfo["classes"] == DOC_CLASSES
        assert Path(dataset.ann_file).resolve() == (my_set / ann_file).resolve()
        folders = {Path(dataset.get_data_info(i)["img_path"]).parent.resolve() for i in range(len(dataset))}
        assert folders == {(my_set / "images").resolve()}
    assert (
        split_class_mismatches(
            DATASETS.build(cfg.train_dataloader.dataset).metainfo,
            DATASETS.build(cfg.val_dataloader.dataset).metainfo,
        )
        == []
    )


def test_a_json_whose_categories_are_not_the_declared_classes_is_refused(my_set):
    data = json.loads((my_set / "annotations" / "val.json").read_text())
    data["categories"][1]["name"] = "horse"
    (my_set / "annotations" / "val.json").write_text(json.dumps(data))
    cfg = load_config("elsewhere/my_detector.py")
    with pytest.raises(AnnotationError, match=r"has the categories \('cat', 'horse', 'bird'\).*declares"):
        DATASETS.build(cfg.val_dataloader.dataset).full_init()


def test_val_classes_differing_from_training_are_an_error_per_task():
    train = {"classes": ("cat", "dog")}
    assert split_class_mismatches(train, {"classes": ("cat", "dog")}) == []
    (problem,) = split_class_mismatches(train, {"classes": ("dog", "cat")})  # same names, other order
    assert "val data set's classes ('dog', 'cat') differ from training's ('cat', 'dog')" in problem
    multi = {"tasks": {"detection": train, "segmentation": {"classes": ("bg", "cat")}}}
    other = {"tasks": {"detection": train, "segmentation": {"classes": ("bg", "dog")}}}
    (problem,) = split_class_mismatches(multi, other)
    assert problem.startswith("the segmentation val data set's classes")


def test_custom_data_refuses_unknown_keys(tmp_path):
    config = tmp_path / "bad.py"
    config.write_text('_base_ = ["visionkit::ssdlite_mnv2_toy.py"]\ncustom_data = dict(data_rot="x")\n')
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['data_rot'\]"):
        load_config(str(config))


def test_custom_data_drops_a_base_label_space(tmp_path):
    """The torchvision SSDLite config evaluates label j as COCO category j + 1; with the user's own classes
    the model predicts the data set's labels, so that mapping must go (else label 0 would be category 1)."""
    base = Path(__file__).resolve().parents[2] / "configs/ssdlite320_mnv3_large_coco.py"
    config = tmp_path / "mine.py"
    config.write_text(
        f'_base_ = ["{base}"]\ncustom_data = dict(data_root="data/my_set", classes=("cat", "dog", "bird"))\n'
    )
    cfg = load_config(str(config))
    assert cfg.model.head.num_classes == 3
    assert "label_cat_ids" not in cfg.val_evaluator and "label_cat_ids" not in cfg.test_evaluator
    assert load_config(str(base)).test_evaluator.label_cat_ids == list(range(1, 91))


def test_custom_data_gives_class_folder_data_sets_their_classes_argument(tmp_path):
    """ImageNetDataset takes ``classes`` itself: setting metainfo.classes there was a TypeError at build
    time ("got multiple values for keyword argument 'metainfo'")."""
    config = tmp_path / "mine.py"
    config.write_text(
        '_base_ = ["visionkit::mobilenet_v2_toy.py"]\n'
        f'custom_data = dict(data_root="{tmp_path}", classes=("cat", "dog"))\n'
    )
    cfg = load_config(str(config))
    dataset = cfg.train_dataloader.dataset
    assert dataset.classes == ("cat", "dog") and "metainfo" not in dataset
    assert cfg.model.head.num_classes == 2
    for name in ("cat", "dog"):
        (tmp_path / "train" / name).mkdir(parents=True)
        (tmp_path / "train" / name / "a.png").write_bytes(b"")
    init_default_scope("visionkit")
    assert DATASETS.build(dataset).metainfo["classes"] == ("cat", "dog")
