"""The per-image record that travels from the pipeline through the model to the metric."""

from __future__ import annotations

from mmengine.structures import BaseDataElement


class DataSample(BaseDataElement):
    """One image's meta information, annotations and predictions (an mmengine ``BaseDataElement``).

    Meta information (``metainfo``): ``img_path``, ``ori_shape`` (H, W) before and ``img_shape`` after
    the pipeline, and per task ``scale_factor``, ``flip``... Data fields by task:

    - classification: ``gt_label`` (int); ``pred_score`` (K,) softmax, ``pred_label`` (int).

    Being a ``BaseDataElement`` (not a dict) keeps mmengine's ``pseudo_collate`` from merging a batch's
    samples into one dict, and gives ``.to(device)``; the ``Evaluator`` hands metrics ``to_dict()`` copies.
    """
