"""COCO box AP with pycocotools' ``COCOeval``: the stock 12 numbers papers report."""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections.abc import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from ..datasets.coco import load_coco
from ..datasets.coco_checks import AnnotationError
from ..registry import METRICS
from ..visualization.plots import plot_pr_curves

# Names of COCOeval.stats, in its order (maxDets 1, 10, 100; areas all / small / medium / large).
STAT_NAMES = (
    "bbox_mAP",
    "bbox_mAP_50",
    "bbox_mAP_75",
    "bbox_mAP_s",
    "bbox_mAP_m",
    "bbox_mAP_l",
    "AR@1",
    "AR@10",
    "AR@100",
    "AR_s@100",
    "AR_m@100",
    "AR_l@100",
)


def detections_to_coco(
    img_id: int, boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, cat_ids: Sequence[int]
) -> list[dict]:
    """One image's detections as COCO result dicts.

    Args:
        boxes: (K, 4) xyxy in original-image pixels; written as [x, y, w, h].
        scores: (K,) confidences.
        labels: (K,) contiguous labels, mapped to the data set's category ids by ``cat_ids``.
    """
    if len(labels) and (labels.min() < 0 or labels.max() >= len(cat_ids)):
        raise ValueError(
            f"Predicted labels must lie in 0..{len(cat_ids) - 1}, got {labels.min()}..{labels.max()}"
        )
    xywh = np.concatenate([boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], axis=1)
    return [
        {"image_id": img_id, "category_id": cat_ids[int(label)], "bbox": box.tolist(), "score": float(score)}
        for box, score, label in zip(xywh.astype(float), scores, labels, strict=True)
    ]


def load_results(coco_gt: COCO, detections: list[dict]) -> COCO:
    """``coco_gt.loadRes(detections)``, which fails on an empty list: then an empty result set."""
    if detections:
        with contextlib.redirect_stdout(io.StringIO()):
            return coco_gt.loadRes(detections)
    coco_dt = COCO()
    coco_dt.dataset = {"images": coco_gt.dataset["images"], "categories": coco_gt.dataset["categories"]}
    coco_dt.dataset["annotations"] = []
    with contextlib.redirect_stdout(io.StringIO()):
        coco_dt.createIndex()
    return coco_dt


def classwise_table(coco_eval: COCOeval, names: Sequence[str]) -> str:
    """Per-class AP (IoU 0.50:0.95 over the evaluated thresholds), AP50 and AP75 as a text table.

    Read from ``coco_eval.eval['precision']`` (T IoUs, R recalls, K classes, A areas, M maxDets) at
    area "all" and the largest maxDets; "nan" where a class has no ground truth.
    """
    precision = coco_eval.eval["precision"][..., 0, -1]  # (T, R, K)
    iou_thrs = list(np.round(coco_eval.params.iouThrs, 2))

    def average(values: np.ndarray) -> str:
        valid = values[values > -1]
        return f"{valid.mean():.3f}" if valid.size else "nan"

    columns = [("AP", slice(None))] + [
        (f"AP{round(t * 100)}", iou_thrs.index(t)) for t in (0.5, 0.75) if t in iou_thrs
    ]
    width = max(len("class"), *(len(n) for n in names))
    lines = [f"{'class':<{width}}  " + "  ".join(f"{c:>6}" for c, _ in columns)]
    for k, name in enumerate(names):
        cells = [f"{average(precision[index, :, k]):>6}" for _, index in columns]
        lines.append(f"{name:<{width}}  " + "  ".join(cells))
    return "\n".join(lines)


@METRICS.register_module()
class CocoMetric(BaseMetric):
    """Box AP/AR on a COCO-format ground truth, through pycocotools' ``COCOeval``.

    Reads from each predicted sample ``img_id`` and ``pred_bboxes`` (K, 4) xyxy in original-image
    pixels, ``pred_scores`` (K,), ``pred_labels`` (K,) contiguous labels; ``dataset_meta['cat_ids']``
    maps labels back to category ids. Logs COCOeval's 12-line summary as pycocotools prints it and
    returns its numbers (fractions, 0..1) as ``bbox_mAP``, ``bbox_mAP_50``, ``bbox_mAP_75``,
    ``bbox_mAP_s/m/l``, ``AR@1``, ``AR@10``, ``AR@100``, ``AR_s/m/l@100``; entries pycocotools
    reports as -1 (no ground truth in that area range) come back as -1. No detections at all give 0
    and a warning. Only the images that were processed are evaluated.

    Args:
        ann_file: ground-truth instances JSON; None takes ``dataset_meta['ann_file']`` (set by
            ``CocoDetection``).
        classwise: also log a per-class AP / AP50 / AP75 table.
        iou_thrs: IoU thresholds; None is COCO's 0.50:0.05:0.95. ``(0.5,)`` is the AP50-only mode for
            custom data: ``bbox_mAP`` is then AP50, and metrics of absent thresholds are left out.
        format_only: only write ``<outfile_prefix>.bbox.json`` (e.g. for the test-dev server).
        outfile_prefix: where to write the results JSON (also when evaluating); None writes nothing.
        plot_dir: also write per-class precision-recall curves there as ``pr_curves.png`` (None: no plot).
        label_cat_ids: the category id of each predicted label, for a model whose labels are not the data
            set's (torchvision's COCO detectors predict 90 labels, label j = category j + 1, gaps
            included); detections of categories the data set lacks are dropped (they can match nothing).
            None: ``dataset_meta['cat_ids']``.
    """

    default_prefix = "coco"

    def __init__(
        self,
        ann_file: str | None = None,
        classwise: bool = False,
        iou_thrs: Sequence[float] | None = None,
        format_only: bool = False,
        outfile_prefix: str | None = None,
        collect_device: str = "cpu",
        prefix: str | None = None,
        plot_dir: str | None = None,
        label_cat_ids: Sequence[int] | None = None,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.label_cat_ids = None if label_cat_ids is None else [int(c) for c in label_cat_ids]
        self.plot_dir = plot_dir
        if format_only and outfile_prefix is None:
            raise ValueError("CocoMetric(format_only=True) writes results only: set outfile_prefix")
        self.ann_file = ann_file
        self.classwise = classwise
        self.iou_thrs = None if iou_thrs is None else np.array(iou_thrs, dtype=np.float64)
        self.format_only = format_only
        self.outfile_prefix = outfile_prefix
        self._coco_gt: COCO | None = None
        self._gt_file: str | None = None

    @BaseMetric.dataset_meta.setter
    def dataset_meta(self, meta: dict | None) -> None:
        """Refuses, before any image is predicted, to evaluate on an image-info file (test-dev) that holds
        no ground truth: only ``format_only`` can use one."""
        if meta and meta.get("image_info") and not self.format_only and self.ann_file is None:
            raise AnnotationError(
                f"'{meta.get('ann_file')}' is an image-info file (images without annotations, as "
                "test-dev's), so there is nothing to score against. Write a submission instead: "
                "--cfg-options test_evaluator.format_only=True "
                "test_evaluator.outfile_prefix=work_dirs/test_dev (docs/detection.md)"
            )
        self._dataset_meta = meta

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            self.results.append(
                (
                    int(sample["img_id"]),
                    np.asarray(_to_numpy(sample["pred_bboxes"]), dtype=np.float64).reshape(-1, 4),
                    np.asarray(_to_numpy(sample["pred_scores"]), dtype=np.float64).reshape(-1),
                    np.asarray(_to_numpy(sample["pred_labels"]), dtype=np.int64).reshape(-1),
                )
            )

    def compute_metrics(self, results: list) -> dict[str, float]:
        meta = self.dataset_meta or {}
        coco_gt = None if self.format_only else self._ground_truth(self.ann_file or meta.get("ann_file"))
        cat_ids = meta.get("cat_ids") or (sorted(coco_gt.getCatIds()) if coco_gt else None)
        if cat_ids is None:
            raise ValueError("CocoMetric needs dataset_meta['cat_ids'] to map labels to category ids")
        label_cat_ids = self.label_cat_ids or meta.get("label_cat_ids") or cat_ids
        detections = [d for result in results for d in detections_to_coco(*result, cat_ids=label_cat_ids)]
        if list(label_cat_ids) != list(cat_ids):
            known = set(cat_ids)
            detections = [d for d in detections if d["category_id"] in known]
        if self.outfile_prefix is not None:
            self._write_results(detections)
        if self.format_only:
            return {}
        img_ids = sorted({result[0] for result in results})
        unknown = sorted(set(img_ids) - set(coco_gt.getImgIds()))
        if unknown:
            raise ValueError(f"Predicted image ids {unknown[:5]} are not in the ground truth {self._gt_file}")
        if not detections:
            print_log("CocoMetric: no detections at all; every AP is 0", logger="current", level=30)
        return self._evaluate(coco_gt, load_results(coco_gt, detections), img_ids, cat_ids, meta)

    def _ground_truth(self, ann_file: str | None) -> COCO:
        """The ground truth, loaded once per file."""
        if ann_file is None:
            raise ValueError(
                "CocoMetric needs the ground-truth JSON: set ann_file=... or evaluate a CocoDetection "
                "data set (its metainfo carries ann_file)"
            )
        if ann_file != self._gt_file:
            self._coco_gt, self._gt_file = load_coco(ann_file), ann_file
        return self._coco_gt

    def _write_results(self, detections: list[dict]) -> None:
        path = f"{self.outfile_prefix}.bbox.json"
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(detections, f)
        print_log(f"CocoMetric: {len(detections)} detections written to {path}", logger="current")

    def _evaluate(
        self, coco_gt: COCO, coco_dt: COCO, img_ids: list[int], cat_ids: Sequence[int], meta: dict
    ) -> dict[str, float]:
        coco_eval = COCOeval(coco_gt, coco_dt, iouType="bbox")
        coco_eval.params.imgIds = img_ids
        coco_eval.params.catIds = list(cat_ids)
        if self.iou_thrs is not None:
            coco_eval.params.iouThrs = self.iou_thrs
        with contextlib.redirect_stdout(io.StringIO()):  # progress lines
            coco_eval.evaluate()
            coco_eval.accumulate()
        summary = io.StringIO()
        with contextlib.redirect_stdout(summary):
            coco_eval.summarize()
        print_log("\n" + summary.getvalue().rstrip(), logger="current")
        names = meta.get("classes")
        if names is None or len(names) != len(cat_ids):  # a model's label space (label_cat_ids) differs
            names = [c["name"] for c in coco_gt.loadCats(list(cat_ids))]
        if self.classwise:
            print_log("\n" + classwise_table(coco_eval, names), logger="current")
        if self.plot_dir is not None:
            path = plot_pr_curves(
                coco_eval.eval["precision"],
                coco_eval.params.recThrs,
                coco_eval.params.iouThrs,
                names,
                os.path.join(self.plot_dir, "pr_curves.png"),
            )
            print_log(f"CocoMetric: precision-recall curves written to {path}", logger="current")
        thrs = list(np.round(coco_eval.params.iouThrs, 2))
        absent = {"bbox_mAP_50": 0.5 not in thrs, "bbox_mAP_75": 0.75 not in thrs}
        return {
            name: float(value)
            for name, value in zip(STAT_NAMES, coco_eval.stats, strict=True)
            if not absent.get(name)
        }


def _to_numpy(value) -> np.ndarray:
    """A tensor (any device) or array-like as a NumPy array."""
    return value.detach().cpu().numpy() if hasattr(value, "detach") else np.asarray(value)
