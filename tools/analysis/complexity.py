"""Parameters and multiply-adds of a config's model (conv and linear layers, per image).

    python tools/analysis/complexity.py configs/mobilenet_v2_imagenet.py [--input-size H W]
        [--cfg-options ...]

The input size defaults to the config's ``input_size`` (224 when it has none). The count follows the
MobileNet papers: see visionkit/analysis/complexity.py.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch
from mmengine.config import DictAction
from mmengine.registry import init_default_scope

from visionkit.analysis import count_complexity
from visionkit.engine import load_config
from visionkit.registry import MODELS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument("--input-size", type=int, nargs=2, metavar=("H", "W"), help="input height and width")
    parser.add_argument(
        "--cfg-options",
        nargs="+",
        action=DictAction,
        default={},
        help="override config values, e.g. model.backbone.widen_factor=1.4",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, float]:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    init_default_scope(cfg.get("default_scope", "visionkit"))
    height, width = args.input_size or (cfg.get("input_size", 224),) * 2
    model = MODELS.build(cfg.model)
    report = count_complexity(
        model, torch.zeros(1, 3, height, width), forward=lambda m, x: m(x, mode="tensor")
    )
    print(f"config:  {args.config}")
    print(f"input:   1x3x{height}x{width}")
    print(f"params:  {report.params / 1e6:.2f} M ({report.params:,})")
    print(f"MAdds:   {report.madds / 1e6:.1f} M ({report.madds:,})")
    parts: dict[str, tuple[int, int]] = {}
    for name, child in model.named_children():
        if name == "data_preprocessor":
            continue
        madds = sum(v for k, v in report.madds_by_module.items() if k.split(".")[0] == name)
        parts[name] = (sum(p.numel() for p in child.parameters()), madds)
    for name, (params, madds) in parts.items():
        print(f"  {name:<12} params {params / 1e6:7.2f} M   MAdds {madds / 1e6:9.1f} M")
    return {"params": report.params, "madds": report.madds}


if __name__ == "__main__":
    main()
