"""How often two models of one config predict the same on its test set (e.g. INT8 ONNX against float).

    python tools/analysis/agreement.py CONFIG REFERENCE OTHER [--iou 0.9] [--score-thr 0.3]
        [--cfg-options k=v ...]

REFERENCE and OTHER are anything ``init_model`` loads: a PyTorch checkpoint or an exported ``.onnx``
(float or INT8). Both see the same batches of the config's test dataloader. Printed: top-1 equality
(classification), mask pixel agreement (segmentation), and for detection the share of each model's
detections (score >= --score-thr) that the other matches one-to-one with the same label at IoU >= --iou
(see visionkit/outputs/); a multi-task config's are per task, on that task's images
(``detection/boxes_matched_of_reference``, ``segmentation/pixel_agreement``). Accuracy itself:
tools/test.py on each.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

from visionkit.apis import init_model
from visionkit.engine import USER_ERRORS, Runner, load_config
from visionkit.outputs import agreement_counts, agreement_ratios
from visionkit.registry import MODELS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument("reference", help="reference checkpoint (.pth or .onnx), e.g. the float model")
    parser.add_argument("other", help="checkpoint compared with it, e.g. the INT8 .onnx")
    parser.add_argument("--iou", type=float, default=0.9, help="detection: IoU of a match")
    parser.add_argument("--score-thr", type=float, default=0.3, help="detection: lowest score counted")
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, default={}, help="override config")
    return parser.parse_args(argv)


@torch.no_grad()
def compare(cfg, reference, other, iou: float, score_thr: float) -> dict[str, float]:
    """Agreement ratios of ``other`` with ``reference`` over ``cfg``'s test dataloader."""
    loader = Runner.build_dataloader(cfg.test_dataloader)
    # A multi-task model: each task on its own images (task name -> its task model's kind).
    tasks = {name: MODELS.get(task["type"]).kind for name, task in cfg.model.get("tasks", {}).items()}
    totals: dict[str, int] = {}
    for batch in loader:
        expected = reference.test_step(copy.deepcopy(batch))
        got = other.test_step(copy.deepcopy(batch))
        for key, value in agreement_counts(expected, got, iou, score_thr, tasks).items():
            totals[key] = totals.get(key, 0) + value
    return {**agreement_ratios(totals), **totals}


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get("default_scope", "visionkit"))
    try:
        reference, other = init_model(cfg, args.reference), init_model(cfg, args.other)
        result = compare(cfg, reference, other, args.iou, args.score_thr)
    except USER_ERRORS as error:
        raise SystemExit(f"error: {error}") from None
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
