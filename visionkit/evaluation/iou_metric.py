"""Semantic segmentation IoU from a confusion matrix accumulated over the whole evaluation set.

As PASCAL VOC defines it (and TF DeepLab and mmsegmentation compute it): the confusion matrix sums
pixels over every image before any ratio is taken, so a large image weighs more than a small one; the
IoU is not averaged per image.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from torch import Tensor

from ..registry import METRICS
from ..visualization.plots import plot_confusion_matrix

IGNORE_INDEX = 255


def confusion_matrix(pred: Tensor, gt: Tensor, num_classes: int, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """(K, K) int64 pixel counts, row = ground-truth class, column = predicted class.

    Args:
        pred, gt: integer class maps of the same shape; pixels where ``gt == ignore_index`` are skipped.

    Raises ``ValueError`` for a ground-truth or predicted label outside ``0..K-1`` (other than ignore).
    """
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and ground truth {tuple(gt.shape)} differ in shape")
    valid = gt != ignore_index
    gt, pred = gt[valid].long(), pred[valid].long()
    for name, labels in (("ground-truth", gt), ("predicted", pred)):
        if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
            raise ValueError(
                f"{name} labels span {int(labels.min())}..{int(labels.max())}, outside 0..{num_classes - 1} "
                f"(and not ignore_index {ignore_index})"
            )
    counts = torch.bincount(gt * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def iou_from_confusion(matrix: Tensor) -> dict[str, Tensor]:
    """Per-class and overall scores (fractions in 0..1) from a (K, K) confusion matrix.

    Returns ``iou`` (K,) = TP / (TP + FP + FN) and ``acc`` (K,) = TP / (TP + FN), NaN for a class absent
    from both ground truth and prediction (``acc``: absent from the ground truth), and scalars ``mIoU`` and
    ``mAcc`` (means over the classes that are not NaN) and ``aAcc`` (correct pixels / all counted pixels).
    """
    matrix = matrix.double()
    tp = matrix.diagonal()
    gt_pixels, pred_pixels = matrix.sum(dim=1), matrix.sum(dim=0)
    union = gt_pixels + pred_pixels - tp
    iou = torch.where(union > 0, tp / union.clamp(min=1), torch.nan)
    acc = torch.where(gt_pixels > 0, tp / gt_pixels.clamp(min=1), torch.nan)
    total = matrix.sum()
    return {
        "iou": iou,
        "acc": acc,
        "mIoU": iou.nanmean(),
        "mAcc": acc.nanmean(),
        "aAcc": tp.sum() / total if total > 0 else torch.tensor(torch.nan, dtype=torch.float64),
    }


@METRICS.register_module()
class IoUMetric(BaseMetric):
    """mIoU, mAcc and aAcc (%) over the evaluation set, with a per-class IoU table in the log.

    Reads ``pred_seg_map`` and ``gt_seg_map`` (both (H0, W0) at the original image size) from each
    predicted sample. Pixels labelled ``ignore_index`` never count. A class absent from both the ground
    truth and the predictions of the whole set has no IoU (NaN, shown as ``nan``) and is left out of the
    mean, as in mmsegmentation; with the full VOC val set every class is present.

    Args:
        num_classes: K; by default the length of ``dataset_meta['classes']``.
        ignore_index: ground-truth label that is skipped.
        plot_dir: also write the confusion matrix there as ``confusion_matrix.png`` (None: no plot).
    """

    default_prefix = None

    def __init__(
        self,
        num_classes: int | None = None,
        ignore_index: int = IGNORE_INDEX,
        collect_device: str = "cpu",
        prefix: str | None = None,
        plot_dir: str | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.num_classes, self.ignore_index = num_classes, ignore_index
        self.plot_dir = plot_dir

    @property
    def class_names(self) -> Sequence[str]:
        classes = (self.dataset_meta or {}).get("classes")
        if classes is None:
            if self.num_classes is None:
                raise ValueError("IoUMetric needs num_classes or a dataset whose metainfo has 'classes'")
            return [str(i) for i in range(self.num_classes)]
        if self.num_classes is not None and len(classes) != self.num_classes:
            raise ValueError(
                f"IoUMetric num_classes={self.num_classes} but the dataset has {len(classes)} classes"
            )
        return classes

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Appends one (K, K) confusion matrix per sample.

        Per sample, not per batch: in distributed evaluation mmengine's ``collect_results`` drops the
        sampler's padded duplicates by counting results, which must therefore be one per image.
        """
        num_classes = self.num_classes or len(self.class_names)
        for sample in data_samples:
            pred = torch.as_tensor(sample["pred_seg_map"]).cpu()
            gt = torch.as_tensor(sample["gt_seg_map"]).cpu()
            if pred.shape != gt.shape:
                raise ValueError(
                    f"'{sample.get('img_path')}': pred_seg_map {tuple(pred.shape)} and gt_seg_map "
                    f"{tuple(gt.shape)} differ; compare at the original size (load the mask after "
                    f"resizing transforms in the test pipeline)"
                )
            self.results.append(confusion_matrix(pred, gt, num_classes, self.ignore_index))

    def compute_metrics(self, results: list) -> dict[str, float]:
        names = self.class_names
        matrix = sum(results, torch.zeros(len(names), len(names), dtype=torch.int64))
        scores = iou_from_confusion(matrix)
        if self.plot_dir is not None:
            path = plot_confusion_matrix(
                matrix.numpy(), names, os.path.join(self.plot_dir, "confusion_matrix.png")
            )
            print_log(f"IoUMetric: confusion matrix written to {path}", logger="current")
        width = max(len("class"), *(len(n) for n in names))
        rows = [f"{'class':<{width}}  {'IoU':>6}  {'Acc':>6}"]
        rows += [
            f"{name:<{width}}  {iou * 100:6.2f}  {acc * 100:6.2f}"
            for name, iou, acc in zip(names, scores["iou"].tolist(), scores["acc"].tolist(), strict=True)
        ]
        print_log("per-class results (%):\n" + "\n".join(rows), logger="current")
        return {key: round(float(scores[key]) * 100, 2) for key in ("mIoU", "aAcc", "mAcc")}
