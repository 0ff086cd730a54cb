"""Export a trained model for deployment, then check the exported graph against PyTorch.

    python tools/export.py CONFIG CHECKPOINT --format onnx [--out FILE] [--input-size H W] [--opset N]
        [--no-postprocess] [--batch N] [--atol A] [--cfg-options k=v ...]
        [--int8 [--calib-images N] [--calib-split train|val] [--keep-float auto|none|LAYER ...]]

The graph takes raw pixels (N, 3, H, W) float32 0..255 and normalises inside; what it returns per task is
in docs/deployment.md. After writing it, the same random batch goes through ONNX Runtime and PyTorch and
the largest absolute difference of each output is printed; the tool exits non-zero when one is above
--atol (times the output's largest magnitude where that is above 1: box pixels, logits). Needs the deploy
extra: pip install -e ".[deploy]".

--int8 then also writes OUT with .int8.onnx: the float graph statically quantized (QDQ; int8 per-channel
weights, uint8 activations) with ranges calibrated on --calib-images images of the config's --calib-split
through its test pipeline; the layers kept in float are measured (each layer's output error when it alone
is INT8; see visionkit/deploy/sensitivity.py) unless --keep-float names them or says none.
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

from visionkit.engine import USER_ERRORS


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="config file")
    parser.add_argument("checkpoint", help="checkpoint: path, URL or torchvision://NAME")
    parser.add_argument(
        "--format", choices=["onnx", "executorch"], default="onnx", help="export format (executorch: .pte)"
    )
    parser.add_argument("--out", type=Path, help="output file (default: the checkpoint path with .onnx)")
    parser.add_argument(
        "--input-size",
        type=int,
        nargs=2,
        metavar=("H", "W"),
        help="input size (default: the config's input_size)",
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
    parser.add_argument("--int8", action="store_true", help="also write the INT8 (QDQ) graph, .int8.onnx")
    parser.add_argument("--calib-images", type=int, default=256, help="--int8: calibration images")
    parser.add_argument(
        "--calib-split", choices=["train", "val", "test"], default="train", help="--int8: calibration data"
    )
    parser.add_argument(
        "--keep-float",
        nargs="+",
        default=["auto"],
        metavar="LAYER",
        help="--int8: layers left in float: auto (by measured sensitivity), none, or module names",
    )
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
    from visionkit.deploy.runtimes import OnnxRuntimeModel

    out = args.out or default_output(args.checkpoint)
    try:
        model = init_model(args.config, args.checkpoint, cfg_options=args.cfg_options)
    except USER_ERRORS as error:
        raise SystemExit(f"error: {error}") from None
    height, width = args.input_size or (model.cfg.get("input_size", 224),) * 2
    if args.format == "executorch":
        return export_pte(model, out.with_suffix(".pte"), (height, width), args)
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
    if args.int8:
        export_int8_graph(model.cfg, out, args)
    return diffs


def export_pte(model, out: Path, size: tuple[int, int], args: argparse.Namespace) -> dict[str, float]:
    """ExecuTorch program(s): float, and with --int8 a PT2E-quantized one (.int8.pte); each checked
    against PyTorch on one random image (INT8: printed, not judged)."""
    import torch

    from visionkit.deploy.calibration import calibration_images
    from visionkit.deploy.executorch_export import export_executorch
    from visionkit.deploy.onnx_export import export_module
    from visionkit.deploy.runtimes import ExecuTorchModel

    calibration = None
    if args.int8:  # the data first: a missing data set stops the export before it writes anything
        normalize = export_module(model, size, postprocess=False).normalize
        pad = normalize.pad_pixel(), normalize.pad_size_divisor
        try:
            calibration = list(calibration_images(model.cfg, args.calib_images, args.calib_split, *pad))
        except USER_ERRORS as error:
            raise SystemExit(f"error: {error}") from None
    image = torch.randint(0, 256, (1, 3, *size), generator=torch.Generator().manual_seed(0)).float()
    wrapper = export_executorch(model, out, size)
    paths = [out]
    if calibration is not None:
        paths.append(out.with_suffix(".int8.pte"))
        export_executorch(model, paths[-1], size, calibration)
    with torch.no_grad():
        reference = wrapper(image)
    reference = reference if isinstance(reference, tuple) else (reference,)
    diffs = {}
    for path in paths:
        got = ExecuTorchModel(model.cfg, path).run(image)
        for name, expected in zip(wrapper.output_names, reference, strict=True):
            diffs[f"{path.name}:{name}"] = float((got[name].double() - expected.double()).abs().max())
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    for name, diff in diffs.items():
        print(f"{name:>30} max abs difference from PyTorch {diff:.3g}")
    return diffs


def export_int8_graph(cfg, float_path: Path, args: argparse.Namespace) -> Path:
    """The INT8 graph beside the float one; prints the sensitivity table and the layers kept in float."""
    from visionkit.deploy.int8 import export_int8
    from visionkit.deploy.sensitivity import format_sensitivity

    out = float_path.with_suffix(".int8.onnx")
    keep = {"auto": None, "none": []}.get(args.keep_float[0], args.keep_float)
    try:
        result = export_int8(cfg, float_path, out, args.calib_images, args.calib_split, keep)
    except USER_ERRORS as error:
        raise SystemExit(f"error: {error}") from None
    if result.sensitivities:
        print(format_sensitivity(result.sensitivities, result.full_error))
    print(
        f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB), layers in float: {result.float_layers or 'none'}"
    )
    return out


if __name__ == "__main__":
    main()
