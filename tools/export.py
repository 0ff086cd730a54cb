"""Export a trained model for deployment, then check the exported graph against PyTorch.

    python tools/export.py CONFIG CHECKPOINT --format onnx [--out FILE] [--shape H W] [--opset N]
        [--no-postprocess] [--batch N] [--atol A] [--cfg-options k=v ...]

The graph takes raw pixels (N, 3, H, W) float32 0..255 and normalises inside; what it returns per task is
in docs/deployment.md. After writing it, the same random batch goes through ONNX Runtime and PyTorch and
the largest absolute difference of each output is printed; the tool exits non-zero when one is above
--atol (times the output's largest magnitude where that is above 1: box pixels, logits). Needs the deploy
extra: pip install -e ".[deploy]".
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.util import find_spec
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mmengine.config import DictAction


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument("checkpoint", help="checkpoint: path, URL or torchvision://NAME")
    parser.add_argument("--format", choices=["onnx"], default="onnx", help="export format")
    parser.add_argument("--out", type=Path, help="output file (default: the checkpoint path with .onnx)")
    parser.add_argument(
        "--shape", type=int, nargs=2, metavar=("H", "W"), help="input size (default: the config's image_size)"
    )
    parser.add_argument("--opset", type=int, help="ONNX opset (default: the exporter's)")
    parser.add_argument(
        "--no-postprocess",
        action="store_true",
        help="detection: export per-anchor scores and boxes; score threshold and NMS stay out of the graph",
    )
    parser.add_argument("--batch", type=int, default=2, help="batch size of the check")
    parser.add_argument(
        "--atol",
        type=float,
        default=1e-3,
        help="largest difference accepted per output, times the output's largest magnitude when above 1",
    )
    parser.add_argument("--cfg-options", nargs="+", action=DictAction, help="override config settings")
    return parser.parse_args(argv)


def default_output(checkpoint: str) -> Path:
    if "://" in checkpoint:
        raise SystemExit(f"Checkpoint '{checkpoint}' is not a local file: give the output file with --out")
    return Path(checkpoint).with_suffix(".onnx")


def main(argv: list[str] | None = None) -> dict[str, float]:
    """Export, compare; returns the largest absolute difference of each output."""
    args = parse_args(argv)
    missing = [name for name in ("onnx", "onnxscript", "onnxruntime") if find_spec(name) is None]
    if missing:
        raise SystemExit(f'Export to ONNX needs {", ".join(missing)}: pip install -e ".[deploy]"')
    import torch

    from visionkit.apis import init_model
    from visionkit.deploy.onnx_export import export_onnx
    from visionkit.deploy.onnx_runtime_model import OnnxRuntimeModel
    from visionkit.engine import USER_ERRORS

    out = args.out or default_output(args.checkpoint)
    try:
        model = init_model(args.config, args.checkpoint, cfg_options=args.cfg_options)
    except USER_ERRORS as error:
        raise SystemExit(f"error: {error}") from None
    height, width = args.shape or (model.cfg.get("image_size", 224),) * 2
    wrapper = export_onnx(model, out, (height, width), not args.no_postprocess, args.opset)
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB), input images ({args.batch}, 3, {height}, {width})"
    )

    images = torch.randint(0, 256, (args.batch, 3, height, width), generator=torch.Generator().manual_seed(0))
    images = images.float()
    runtime = OnnxRuntimeModel(model.cfg, out).run(images)
    with torch.no_grad():
        reference = wrapper(images)
    reference = reference if isinstance(reference, tuple) else (reference,)
    diffs, limits = {}, {}
    for name, expected in zip(wrapper.output_names, reference, strict=True):
        got = runtime[name]
        if got.shape != expected.shape:
            raise SystemExit(
                f"Output '{name}': ONNX Runtime gives shape {tuple(got.shape)}, PyTorch {expected.shape}"
            )
        diffs[name] = float((got.double() - expected.double()).abs().max()) if got.numel() else 0.0
        # Rounding grows with the values: box corners of hundreds of pixels, logits of tens.
        limits[name] = args.atol * max(1.0, float(expected.abs().max()) if expected.numel() else 0.0)
        print(f"{name:>15} {tuple(got.shape)} max abs difference {diffs[name]:.3g}, limit {limits[name]:.3g}")
    failed = [name for name, diff in diffs.items() if diff > limits[name]]
    if failed:
        raise SystemExit(
            f"ONNX Runtime and PyTorch differ beyond the limit in {failed} (see above): raise --atol if that "
            "is rounding (after NMS, detections whose scores tie to rounding may swap places), otherwise "
            "the exported graph is wrong"
        )
    print("ONNX Runtime matches PyTorch within the limits")
    return diffs


if __name__ == "__main__":
    main()
