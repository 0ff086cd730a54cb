"""SSDLite learns: a few toy COCO images, trained for a few hundred steps, are detected with AP50 >= 0.9."""

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from visionkit.datasets import CocoDetection
from visionkit.datasets.toy_data import make_coco_detection_set
from visionkit.datasets.transforms import Albumentations, LoadImage, PackInputs
from visionkit.evaluation import CocoMetric
from visionkit.registry import MODELS

pytestmark = pytest.mark.slow


def test_overfits_a_few_toy_images(tmp_path):
    torch.manual_seed(0)
    toy = make_coco_detection_set(tmp_path, num_train=4, num_val=1, image_size=(160, 200), seed=3)
    pipeline = [LoadImage(), Albumentations([dict(type="Resize", height=192, width=192)]), PackInputs()]
    dataset = CocoDetection(
        data_root=str(toy["root"]),
        ann_file="annotations/instances_train2017.json",
        data_prefix=dict(img="train2017/"),
        test_mode=True,
        pipeline=pipeline,
    )
    assert sum(len(dataset.get_data_info(i)["gt_labels"]) for i in range(len(dataset))) >= 4

    cfg = Config.fromfile("configs/_base_/models/ssdlite_mnv2.py").model
    cfg.head.num_classes = len(dataset.metainfo["classes"])
    model = MODELS.build(cfg)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    model.train()
    for _ in range(250):
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode="loss")
        optimizer.zero_grad()
        sum(losses.values()).backward()
        optimizer.step()
    assert losses["loss_bbox"].item() < 0.5

    model.eval()
    with torch.no_grad():
        predictions = model.test_step(pseudo_collate([dataset[i] for i in range(len(dataset))]))
    metric = CocoMetric(iou_thrs=(0.5,))
    metric.dataset_meta = dataset.metainfo
    metric.process({}, [sample.to_dict() for sample in predictions])
    assert metric.evaluate(len(predictions))["coco/bbox_mAP"] >= 0.9
