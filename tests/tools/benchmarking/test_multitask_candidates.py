"""The single-task models the multi-task benchmark runs one after the other compute what the multi-task
model does: the same predictions, so the timing compares equal work."""

from __future__ import annotations

import torch
from benchmarking.multitask_candidates import single_task_models

from tests.lively_models import lively_model, shape_images
from tests.tools.run_tool import REPO
from visionkit.engine import load_config
from visionkit.structures import DataSample

WIDTH = {"model.backbone.widen_factor": 0.35, "model.tasks.detection.neck.widen_factor": 0.35}


def test_single_task_models_predict_what_the_multi_task_model_does():
    cfg = load_config(str(REPO / "configs/multitask_mnv2_toy.py"), WIDTH)
    model = lively_model(cfg)
    singles = single_task_models(model, cfg)
    assert sorted(singles) == ["detection", "segmentation"]
    assert all(single.backbone is not model.backbone for single in singles.values())
    images = shape_images([(96, 96), (96, 96)])

    def predict(net: torch.nn.Module) -> list[DataSample]:
        samples = [DataSample(metainfo=dict(img_shape=(96, 96), ori_shape=(96, 96))) for _ in images]
        with torch.no_grad():
            batch = net.data_preprocessor(dict(inputs=images, data_samples=samples), False)
            return net(**batch, mode="predict")

    joint, detected, segmented = (
        predict(model),
        predict(singles["detection"]),
        predict(singles["segmentation"]),
    )
    assert not torch.equal(joint[0].pred_seg_map, joint[1].pred_seg_map)  # depends on the input
    for ours, det, seg in zip(joint, detected, segmented, strict=True):
        assert len(ours.pred_bboxes) > 0
        torch.testing.assert_close(ours.pred_bboxes, det.pred_bboxes)
        torch.testing.assert_close(ours.pred_scores, det.pred_scores)
        assert torch.equal(ours.pred_labels, det.pred_labels)
        assert torch.equal(ours.pred_seg_map, seg.pred_seg_map)
