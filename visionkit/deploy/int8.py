"""INT8 export of a config's model: calibrate on its own data, measure per-layer sensitivity, quantize.

float .onnx (export_onnx) -> calibration images (the config's split, test pipeline)
    -> per-layer sensitivity on images of the other split -> layers kept in float -> QDQ .onnx
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

import onnx
from mmengine.config import Config

from .calibration import calibration_images
from .onnx_export import METADATA_KEY
from .quantize import quantize_onnx
from .sensitivity import LayerSensitivity, layer_sensitivity, select_float_layers


class Int8Export(NamedTuple):
    path: Path
    float_layers: list[str]
    sensitivities: list[LayerSensitivity]  # empty when the float layers were given
    full_error: float  # relative output error with every layer INT8 (nan when not measured)


def export_int8(
    cfg: Config,
    float_path: str | Path,
    out_path: str | Path,
    calib_images: int = 256,
    calib_split: str = "train",
    keep_float: list[str] | None = None,
    sensitivity_images: int = 16,
) -> Int8Export:
    """Quantize the exported graph at ``float_path`` into ``out_path``.

    ``keep_float=None`` chooses the float layers by measured sensitivity (:func:`select_float_layers`,
    errors measured on ``sensitivity_images`` images of the split calibration does not use); a list
    (possibly empty) keeps exactly those.
    """
    meta = json.loads(
        {p.key: p.value for p in onnx.load(str(float_path), load_external_data=False).metadata_props}[
            METADATA_KEY
        ]
    )
    padding = dict(pad_pixel=meta["pad_pixel"], pad_size_divisor=meta["pad_size_divisor"])
    images = list(calibration_images(cfg, calib_images, calib_split, **padding))
    sensitivities: list[LayerSensitivity] = []
    full_error = float("nan")
    if keep_float is None:
        other_split = "val" if calib_split == "train" else "train"
        probe = list(calibration_images(cfg, sensitivity_images, other_split, **padding))
        sensitivities, full_error = layer_sensitivity(float_path, images, probe)
        keep_float = select_float_layers(sensitivities)
    calibration = {"split": calib_split, "pipeline": "test", "float_layers_by": "given"}
    if sensitivities:
        calibration["float_layers_by"] = "measured sensitivity"
    path = quantize_onnx(float_path, out_path, images, keep_float, calibration)
    return Int8Export(path, list(keep_float), sensitivities, full_error)
