"""CocoDetection on the toy COCO set and on small hand-written annotation files."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from visionkit.datasets import CocoDetection
from visionkit.datasets.toy_data import make_coco_detection_set
from visionkit.datasets.transforms import Albumentations, LoadImage, PackInputs

TRAIN = dict(ann_file="annotations/instances_train2017.json", data_prefix=dict(img="train2017/"))


@pytest.fixture(scope="module")
def coco_set(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return make_coco_detection_set(
        tmp_path_factory.mktemp("coco"), num_train=10, num_val=4, image_size=(64, 96)
    )


@pytest.fixture(scope="module")
def coco_json(coco_set: dict) -> dict:
    return json.loads(Path(coco_set["train_ann"]).read_text())


def write_coco(root: Path, annotations: list[dict], categories: tuple[int, ...] = (5, 9)) -> Path:
    """One 50x40 image and the given annotations, in the COCO layout under ``root``."""
    (root / "annotations").mkdir(parents=True)
    (root / "train2017").mkdir()
    dataset = {
        "images": [{"id": 42, "file_name": "a.jpg", "width": 50, "height": 40}],
        "annotations": [{"id": i + 1, "image_id": 42, "iscrowd": 0, **a} for i, a in enumerate(annotations)],
        "categories": [{"id": c, "name": f"c{c}"} for c in categories],
    }
    (root / "annotations" / "instances_train2017.json").write_text(json.dumps(dataset))
    return root


def test_labels_contiguous_and_mapped_back(coco_set: dict, coco_json: dict) -> None:
    dataset = CocoDetection(data_root=str(coco_set["root"]), **TRAIN)
    assert len(dataset) == coco_set["num_train"]
    assert dataset.label_to_cat_id == (1, 3, 7, 12)
    assert dataset.metainfo["cat_ids"] == (1, 3, 7, 12)
    assert dataset.metainfo["classes"] == tuple(coco_set["categories"][i] for i in (1, 3, 7, 12))
    assert dataset.metainfo["ann_file"] == str(coco_set["train_ann"])

    for index in range(len(dataset)):
        info = dataset.get_data_info(index)
        assert info["gt_bboxes"].dtype == np.float32 and info["gt_bboxes"].shape[1] == 4
        assert info["gt_labels"].dtype == np.int64
        assert set(info["gt_labels"].tolist()) <= {0, 1, 2, 3}
        anns = [a for a in coco_json["annotations"] if a["image_id"] == info["img_id"] and not a["iscrowd"]]
        expected = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)]).reshape(-1, 4)
        np.testing.assert_allclose(info["gt_bboxes"], expected, atol=1e-4)
        assert [dataset.label_to_cat_id[label] for label in info["gt_labels"]] == [
            a["category_id"] for a in anns
        ]
        assert Path(info["img_path"]).is_file()


def test_iscrowd_excluded(coco_set: dict, coco_json: dict) -> None:
    dataset = CocoDetection(data_root=str(coco_set["root"]), **TRAIN)
    num_crowd = sum(a["iscrowd"] for a in coco_json["annotations"])
    assert num_crowd > 0
    num_boxes = sum(len(dataset.get_data_info(i)["gt_labels"]) for i in range(len(dataset)))
    assert num_boxes == len(coco_json["annotations"]) - num_crowd


def test_empty_images_kept_or_filtered(coco_set: dict, coco_json: dict) -> None:
    with_boxes = {a["image_id"] for a in coco_json["annotations"] if not a["iscrowd"]}
    assert len(with_boxes) < coco_set["num_train"]  # the toy set has empty images
    root = str(coco_set["root"])
    assert len(CocoDetection(data_root=root, filter_empty_gt=False, **TRAIN)) == coco_set["num_train"]
    filtered = CocoDetection(data_root=root, filter_empty_gt=True, **TRAIN)
    assert {filtered.get_data_info(i)["img_id"] for i in range(len(filtered))} == with_boxes
    evaluated = CocoDetection(data_root=root, filter_empty_gt=True, test_mode=True, **TRAIN)
    assert len(evaluated) == coco_set["num_train"]


def test_min_size_filters_small_images(coco_set: dict, coco_json: dict) -> None:
    sides = {image["id"]: min(image["width"], image["height"]) for image in coco_json["images"]}
    threshold = sorted(sides.values())[len(sides) // 2]
    dataset = CocoDetection(data_root=str(coco_set["root"]), min_size=threshold, **TRAIN)
    assert {dataset.get_data_info(i)["img_id"] for i in range(len(dataset))} == {
        i for i, side in sides.items() if side >= threshold
    }


def test_bad_boxes_clipped_or_dropped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logged = []
    monkeypatch.setattr("visionkit.datasets.coco.print_log", lambda msg, **kw: logged.append(msg))
    root = write_coco(
        tmp_path,
        [
            {"category_id": 5, "bbox": [-5, 10, 20, 10]},  # partly left of the image: clipped
            {"category_id": 9, "bbox": [45, 30, 20, 20]},  # partly right/below: clipped
            {"category_id": 5, "bbox": [60, 10, 10, 10]},  # outside: dropped
            {"category_id": 5, "bbox": [5, 5, 0, 10]},  # zero width: dropped
            {"category_id": 9, "bbox": [5, 5, 10, 0.5]},  # under 1 px high: dropped
            {"category_id": 77, "bbox": [5, 5, 10, 10]},  # unknown category: dropped
            {"category_id": 9, "bbox": [1, 2, 3, 4]},
            {"category_id": 9, "bbox": [7, 2, 1, 1]},  # 1 px wide and high: kept
            {"category_id": 9, "bbox": [1, 2, 3, 4], "image_id": 7},  # of an image the file does not list
        ],
    )
    dataset = CocoDetection(data_root=str(root), **TRAIN)
    info = dataset.get_data_info(0)
    np.testing.assert_array_equal(
        info["gt_bboxes"], [[0, 10, 15, 20], [45, 30, 50, 40], [1, 2, 4, 6], [7, 2, 8, 3]]
    )
    np.testing.assert_array_equal(info["gt_labels"], [0, 1, 1, 1])
    assert len(logged) == 1
    assert "2 clipped" in logged[0] and "3 degenerate" in logged[0] and "1 unknown category" in logged[0]
    assert "1 unknown image" in logged[0]


def test_missing_root_says_where_coco_goes(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as error:
        CocoDetection(data_root=str(tmp_path / "nowhere"), **TRAIN)
    message = str(error.value)
    assert "data/coco/{annotations,train2017,val2017}" in message
    assert "--data-root" in message and "--cfg-options" in message


def test_missing_ann_file_named(tmp_path: Path) -> None:
    (tmp_path / "train2017").mkdir()
    ann_file = tmp_path / "annotations" / "instances_train2017.json"
    with pytest.raises(FileNotFoundError, match=re.escape(str(ann_file))):
        CocoDetection(data_root=str(tmp_path), **TRAIN)


def test_corrupt_json_names_the_file(tmp_path: Path) -> None:
    root = write_coco(tmp_path, [])
    ann_file = root / "annotations" / "instances_train2017.json"
    ann_file.write_text('{"images": [')
    with pytest.raises(ValueError, match=re.escape(f"'{ann_file}' is not valid JSON")):
        CocoDetection(data_root=str(root), **TRAIN)


def test_pipeline_output_matches_the_contract(coco_set: dict) -> None:
    pipeline = [LoadImage(), Albumentations([dict(type="Resize", height=32, width=48)]), PackInputs()]
    dataset = CocoDetection(data_root=str(coco_set["root"]), filter_empty_gt=True, pipeline=pipeline, **TRAIN)
    info = dataset.get_data_info(0)
    sample = dataset[0]["data_samples"]
    assert sample.img_id == info["img_id"]
    assert sample.ori_shape == (info["height"], info["width"])
    assert sample.img_shape == (32, 48)
    assert sample.gt_bboxes.dtype == torch.float32 and sample.gt_labels.dtype == torch.int64
    scale = np.array([48 / info["width"], 32 / info["height"]] * 2, dtype=np.float32)
    np.testing.assert_allclose(sample.gt_bboxes.numpy(), info["gt_bboxes"] * scale, atol=1e-3)
    np.testing.assert_array_equal(sample.gt_labels.numpy(), info["gt_labels"])
