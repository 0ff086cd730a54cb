"""What tools/analysis/check_dataset.py reports for one sample, on hand-made files and records."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.dataset import RepeatDataset
from PIL import Image

from visionkit.datasets import ImageNetDataset, MultiTaskDataset
from visionkit.datasets.sample_checks import check_sample, leaf_datasets
from visionkit.datasets.toy_data import make_classification_set


@pytest.fixture
def image(tmp_path) -> Path:
    path = tmp_path / "a.jpg"
    cv2.imwrite(str(path), np.full((20, 30, 3), 128, np.uint8))  # 20 rows, 30 columns
    return path


def _record(image: Path, **fields) -> dict:
    return {"img_path": str(image), "relative_path": image.name, "num_classes": 5, **fields}


def test_a_good_sample_has_no_problems(image, tmp_path):
    seg_map = tmp_path / "a.png"
    Image.fromarray(np.array([[0, 4, 255] * 10] * 20, np.uint8), mode="L").save(seg_map)
    record = _record(image, height=20, width=30, seg_map_path=str(seg_map), gt_label=4)
    record |= {"gt_bboxes": np.array([[0, 0, 30, 20]], np.float32), "gt_labels": np.array([4])}
    assert check_sample(record) == []


def test_an_unreadable_image_and_a_size_its_annotation_does_not_record(image, tmp_path):
    truncated = tmp_path / "b.jpg"
    truncated.write_bytes(image.read_bytes()[:100])
    [problem] = check_sample(_record(truncated))
    assert problem.startswith(f"Cannot read image '{truncated}'")
    assert check_sample(_record(image, height=25, width=30)) == [
        "image is 20x30 (HxW), its annotation says 25x30"
    ]


def test_boxes_non_finite_empty_outside_or_of_unknown_class(image):
    boxes = np.array([[0, 0, np.nan, 5], [3, 3, 3, 9], [25, 15, 31, 20], [1, 1, 5, 5]], np.float32)
    problems = check_sample(_record(image, gt_bboxes=boxes, gt_labels=np.array([0, 1, 2, 7])))
    assert problems == [
        "1 boxes have non-finite coordinates",
        "1 boxes have no area (x2 <= x1 or y2 <= y1)",
        "1 boxes reach outside the 20x30 image",
        "box labels [7] are outside 0..4",
    ]


def test_segmentation_maps_in_colour_of_another_size_or_with_unknown_labels(image, tmp_path):
    colour, small, unknown = tmp_path / "colour.png", tmp_path / "small.png", tmp_path / "unknown.png"
    Image.fromarray(np.zeros((20, 30, 3), np.uint8)).save(colour)
    Image.fromarray(np.zeros((10, 30), np.uint8), mode="L").save(small)
    Image.fromarray(np.full((20, 30), 9, np.uint8), mode="L").save(unknown)
    assert "has PIL mode 'RGB'" in check_sample(_record(image, seg_map_path=str(colour)))[0]
    assert check_sample(_record(image, seg_map_path=str(small))) == [
        f"segmentation map '{small}' is 10x30, its image 20x30"
    ]
    assert check_sample(_record(image, seg_map_path=str(unknown))) == [
        f"segmentation map '{unknown}' has labels [9] outside 0..4 (and 255, ignore)"
    ]
    assert check_sample(_record(image, gt_label=5)) == ["class label 5 is outside 0..4"]


def test_the_data_sets_behind_wrappers_are_found_with_their_config_keys(tmp_path):
    root = make_classification_set(tmp_path, num_train_per_class=1, num_val_per_class=1, image_size=16)[
        "root"
    ]
    inner = ImageNetDataset(data_root=str(root))
    tasks = MultiTaskDataset(dict(a=RepeatDataset(inner, times=3), b=inner))
    assert [key for key, _ in leaf_datasets(tasks, "train_dataloader.dataset")] == [
        "train_dataloader.dataset.datasets.a.dataset",
        "train_dataloader.dataset.datasets.b",
    ]
    assert all(leaf is inner for _, leaf in leaf_datasets(tasks, "x"))
