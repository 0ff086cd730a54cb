"""COCO image-info files (image_info_test-dev2017.json: images and categories, no annotations) load in test
mode for format_only submissions, and are refused with a message anywhere else."""

import json

import numpy as np
import pytest

from tests.recipe_trees import COCO_CATEGORIES, make_coco
from visionkit.datasets import CocoDetection
from visionkit.datasets.coco_checks import AnnotationError
from visionkit.evaluation import CocoMetric

TEST_DEV = "annotations/image_info_test-dev2017.json"


def load_test_dev(root, **kwargs) -> CocoDetection:
    return CocoDetection(data_root=str(root), ann_file=TEST_DEV, data_prefix=dict(img="test2017/"), **kwargs)


def test_loads_in_test_mode_as_images_without_boxes(tmp_path) -> None:
    root = make_coco(tmp_path / "coco", num_train=1, num_val=1, num_test=2)
    assert "annotations" not in json.loads((root / TEST_DEV).read_text())
    dataset = load_test_dev(root, test_mode=True)
    assert len(dataset) == 2 and dataset.metainfo["image_info"] is True
    assert len(dataset.metainfo["classes"]) == 80 == len(COCO_CATEGORIES)
    assert [dataset.get_data_info(i)["img_id"] for i in range(2)] == [2001, 2002]
    assert dataset.get_data_info(0)["gt_bboxes"].shape == (0, 4)


def test_refused_for_training_with_what_it_is(tmp_path) -> None:
    root = make_coco(tmp_path / "coco", num_train=1, num_val=1, num_test=1)
    with pytest.raises(AnnotationError, match=r"image-info file.*test_mode=True.*format_only=True"):
        load_test_dev(root)


def test_the_metric_refuses_to_score_it_before_predicting_and_writes_a_submission(tmp_path) -> None:
    root = make_coco(tmp_path / "coco", num_train=1, num_val=1, num_test=2)
    meta = load_test_dev(root, test_mode=True).metainfo
    with pytest.raises(AnnotationError, match=r"image-info file.*test_evaluator\.format_only=True"):
        CocoMetric().dataset_meta = meta
    metric = CocoMetric(format_only=True, outfile_prefix=str(tmp_path / "detections_test-dev2017_x"))
    metric.dataset_meta = meta
    sample = {
        "img_id": 2001,
        "pred_bboxes": np.array([[10.0, 20.0, 50.0, 60.0]]),
        "pred_scores": np.array([0.9]),
        "pred_labels": np.array([16]),  # ids 1-11, 13-18: label 16 is dog, category id 18
    }
    assert metric.compute_metrics([tuple(metric_input(sample))]) == {}
    written = json.loads((tmp_path / "detections_test-dev2017_x.bbox.json").read_text())
    assert written == [{"image_id": 2001, "category_id": 18, "bbox": [10.0, 20.0, 40.0, 40.0], "score": 0.9}]


def metric_input(sample: dict) -> tuple:
    return (
        sample["img_id"],
        np.asarray(sample["pred_bboxes"], dtype=np.float64),
        np.asarray(sample["pred_scores"], dtype=np.float64),
        np.asarray(sample["pred_labels"], dtype=np.int64),
    )
