"""The per-image record that travels from the pipeline through the model to the metric."""

from __future__ import annotations

from mmengine.structures import BaseDataElement

TASK_KEY = "task"  # metainfo naming a sample's task in multi-task training (set by MultiTaskDataset)


class DataSample(BaseDataElement):
    """One image's meta information, annotations and predictions (an mmengine ``BaseDataElement``).

    Meta information (``metainfo``): ``img_path``, ``ori_shape`` (H, W) before and ``img_shape`` after
    the pipeline, and per task ``scale_factor``, ``flip``... Data fields by task:

    - classification: ``gt_label`` (int); ``pred_score`` (K,) softmax, ``pred_label`` (int).
    - segmentation: ``gt_seg_map`` (H, W) int64 class indices, 255 = ignore, at ``img_shape``;
      ``pred_seg_map`` (H0, W0) int64 at ``ori_shape``, optionally ``seg_logits`` (K, H0, W0) float.
      The Segmentor adds metainfo ``batch_input_shape`` (H, W), the padded network input size (in
      prediction the image's own ``img_shape``: task models predict each size unpadded).
    - detection: ``gt_bboxes`` float32 (N, 4) xyxy in network-input pixels (after the pipeline's resize,
      no letterbox; the data preprocessor may pad bottom/right only), ``gt_labels`` int64 (N,) contiguous
      0..K-1; ``pred_bboxes`` float (D, 4) xyxy in *original*-image pixels (scaled per axis by
      ``ori_shape / img_shape``, clipped to the original image), ``pred_scores`` (D,), ``pred_labels``
      int64 (D,) contiguous 0..K-1 (the metric maps them to dataset category ids). The detector adds
      metainfo ``batch_input_shape`` (H, W of the padded network input).
    - multi-task: metainfo ``task`` (:data:`TASK_KEY`), the task whose data set the sample comes from;
      a ``MultiTaskModel`` prediction carries every task's fields.

    Being a ``BaseDataElement`` (not a dict) keeps mmengine's ``pseudo_collate`` from merging a batch's
    samples into one dict, and gives ``.to(device)``; the ``Evaluator`` hands metrics ``to_dict()`` copies.
    """
