"""COCO instances of VOC's 20 categories drawn as 21-class label maps, checked against pycocotools'
annToMask on a hand-made instance file; the training filter and the category check."""

import json

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from visionkit.datasets import CocoVOCSegmentation
from visionkit.datasets.coco_checks import AnnotationError
from visionkit.datasets.coco_voc_segmentation import VOC_COCO_CATEGORIES
from visionkit.datasets.transforms import rasterize_instances

H, W = 40, 60
CATEGORIES = [{"id": cat_id, "name": name} for cat_id, name in VOC_COCO_CATEGORIES] + [
    {"id": 13, "name": "stop sign"}
]
PERSON, DOG, CAT = 1, 18, 17  # VOC labels 15, 12, 8


def rect(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def annotations() -> list[dict]:
    crowd = np.zeros((H, W), dtype=np.uint8)
    crowd[30:38, 45:58] = 1
    counts, previous, run = (
        [],
        0,
        0,
    )  # uncompressed RLE, column-major, starting with zeros (COCO's crowd form)
    for value in crowd.flatten(order="F"):
        if value != previous:
            counts.append(run)
            previous, run = value, 0
        run += 1
    counts.append(run)
    crowd_rle = {"size": [H, W], "counts": counts}
    return [
        ann(1, 1, PERSON, rect(5, 5, 25, 25), 400),
        ann(2, 1, DOG, rect(15, 15, 35, 30), 300),  # overlaps the person on 10x10 pixels -> 255 there
        ann(3, 1, CAT, rect(40, 2, 50, 10) + rect(52, 2, 58, 10), 128),  # two polygons of one cat
        ann(4, 1, PERSON, crowd_rle, 104, iscrowd=1),  # a crowd: uncompressed RLE, as COCO stores crowds
        ann(5, 1, 13, rect(0, 30, 20, 40), 200),  # a stop sign, not a VOC class: background
        ann(6, 2, DOG, rect(0, 0, 10, 10), 100),
    ]


def ann(ann_id: int, image_id: int, category: int, segmentation, area: float, iscrowd: int = 0) -> dict:
    return {
        "id": ann_id,
        "image_id": image_id,
        "category_id": category,
        "segmentation": segmentation,
        "area": area,
        "bbox": [0, 0, 1, 1],
        "iscrowd": iscrowd,
    }


@pytest.fixture
def coco_root(tmp_path):
    (tmp_path / "annotations").mkdir()
    (tmp_path / "val2017").mkdir()
    images = [{"id": i, "file_name": f"{i:012d}.jpg", "width": W, "height": H} for i in (1, 2)]
    for image in images:
        Image.fromarray(np.zeros((H, W, 3), np.uint8)).save(tmp_path / "val2017" / image["file_name"])
    data = {"images": images, "annotations": annotations(), "categories": CATEGORIES}
    (tmp_path / "annotations" / "instances_val2017.json").write_text(json.dumps(data))
    return tmp_path


def expected_map(coco: COCO, img_id: int, crowd_ignored: bool = False) -> np.ndarray:
    """torchvision's ConvertCocoPolysToMask from annToMask masks: label of the covering instance, 255 where
    two or more overlap, 0 elsewhere."""
    voc_label = {cat_id: i for i, (cat_id, _) in enumerate(VOC_COCO_CATEGORIES, start=1)}
    anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=img_id)) if a["category_id"] in voc_label]
    masks = [coco.annToMask(a).astype(np.int64) for a in anns if not (crowd_ignored and a["iscrowd"])]
    labels = [voc_label[a["category_id"]] for a in anns if not (crowd_ignored and a["iscrowd"])]
    target = np.max([m * label for m, label in zip(masks, labels, strict=True)], axis=0)
    target[np.sum(masks, axis=0) > 1] = 255
    if crowd_ignored:
        for a in anns:
            if a["iscrowd"]:
                target[coco.annToMask(a) > 0] = 255
    return target


def test_label_maps_equal_annToMask_composition(coco_root) -> None:
    dataset = CocoVOCSegmentation(
        data_root=str(coco_root),
        ann_file="annotations/instances_val2017.json",
        data_prefix=dict(img="val2017/"),
        test_mode=True,
        pipeline=[dict(type="LoadImage"), dict(type="LoadCocoSemanticMap"), dict(type="PackInputs")],
    )
    coco = COCO(str(coco_root / "annotations" / "instances_val2017.json"))
    label_map = dataset[0]["data_samples"].gt_seg_map.numpy()
    np.testing.assert_array_equal(label_map, expected_map(coco, 1))
    # By hand (y, x): person (label 15) alone at (6, 6), dog (12) at (25, 28), both at (20, 20), cat (8) at
    # (5, 45), the crowd of people (15) at (34, 50), the stop sign is background at (35, 5).
    assert [label_map[y, x] for y, x in ((6, 6), (25, 28), (20, 20), (5, 45), (34, 50), (35, 5))] == [
        15,
        12,
        255,
        8,
        15,
        0,
    ]
    assert dataset.metainfo["classes"][15] == "person" and len(dataset.metainfo["classes"]) == 21


def test_crowd_regions_ignored_on_request(coco_root) -> None:
    dataset = CocoVOCSegmentation(
        data_root=str(coco_root),
        ann_file="annotations/instances_val2017.json",
        data_prefix=dict(img="val2017/"),
        test_mode=True,
    )
    info = dataset.get_data_info(0)
    coco = COCO(str(coco_root / "annotations" / "instances_val2017.json"))
    np.testing.assert_array_equal(
        rasterize_instances(info["instances"], H, W, crowd="ignore"),
        expected_map(coco, 1, crowd_ignored=True),
    )


def test_training_keeps_images_with_more_than_1000_pixels_of_voc_classes(coco_root) -> None:
    """Image 1: 400 + 300 + 128 + 104 = 932 px of VOC classes (the stop sign's 200 do not count); image 2:
    100."""
    kwargs = dict(
        data_root=str(coco_root),
        ann_file="annotations/instances_val2017.json",
        data_prefix=dict(img="val2017/"),
    )
    with pytest.raises(AnnotationError, match="more than 1000 pixels"):
        CocoVOCSegmentation(**kwargs, min_area=1000)
    kept = CocoVOCSegmentation(**kwargs, min_area=900)
    assert [kept.get_data_info(i)["img_id"] for i in range(len(kept))] == [1]
    assert len(CocoVOCSegmentation(**kwargs, min_area=1000, test_mode=True)) == 2


def test_a_file_numbered_unlike_coco_is_refused(coco_root) -> None:
    path = coco_root / "annotations" / "instances_val2017.json"
    data = json.loads(path.read_text())
    data["categories"][0]["name"] = "aeroplane"
    path.write_text(json.dumps(data))
    with pytest.raises(AnnotationError, match="5 is 'aeroplane', not 'airplane'"):
        CocoVOCSegmentation(
            data_root=str(coco_root),
            ann_file="annotations/instances_val2017.json",
            data_prefix=dict(img="val2017/"),
        )
