"""Run a graph written by :func:`~visionkit.deploy.onnx_export.export_onnx` (float or INT8 QDQ) with
OpenVINO on an x86 CPU, behind the same ``test_step`` as :class:`OnnxRuntimeModel` (same pre- and
post-processing, so the same predictions).

Why a second runtime for the same file: on Intel CPUs OpenVINO runs an INT8 QDQ graph on oneDNN's
VNNI / AMX kernels, int8 depthwise convolutions included, where ONNX Runtime's int8 depthwise kernel is
no faster than its float one (docs/benchmarks.md, "OpenVINO: INT8 and float"). Float graphs run in float32:
OpenVINO would otherwise pick bfloat16 on CPUs with AMX, which changes the outputs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from torch import Tensor

from .onnx_export import METADATA_KEY
from .onnx_runtime_model import OnnxRuntimeModel
from .ort_session import int8_saturates


def import_openvino() -> Any:
    try:
        import openvino
    except ImportError as error:
        raise ImportError('OpenVINO is not installed: pip install -e ".[openvino]"') from error
    return openvino


def compile_settings(threads: int | None = None) -> dict[str, Any]:
    """OpenVINO CPU settings for batch-1 latency in float32 (``threads``: its default, all cores)."""
    settings: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    if threads:
        settings["INFERENCE_NUM_THREADS"] = threads
    return settings


class OpenVinoModel(OnnxRuntimeModel):
    """An exported ``.onnx`` file compiled by OpenVINO for the CPU.

    Args:
        cfg: the config the model was exported from (its test pipeline prepares the images).
        path: the ``.onnx`` file (float or INT8).
        device: ``'cpu'`` only.
        threads: inference threads (default: OpenVINO's, one per core).
    """

    def __init__(
        self, cfg: Config, path: str | Path, device: str = "cpu", threads: int | None = None
    ) -> None:
        if device != "cpu":
            raise ValueError(f"visionkit runs OpenVINO on the CPU, not '{device}'")
        core = import_openvino().Core()
        graph = core.read_model(str(path))
        # OpenVINO's ONNX reader keeps the file's metadata_props under rt_info["framework"].
        key = ["framework", METADATA_KEY]
        if not graph.has_rt_info(key):
            raise ValueError(f"'{path}' has no '{METADATA_KEY}' metadata: export it with tools/export.py")
        self.use_metadata(cfg, json.loads(graph.get_rt_info(key).astype(str)), path)
        if self.meta.get("quantization") and int8_saturates():
            print_log(
                f"'{path}' is INT8 and this CPU has no VNNI: OpenVINO's int8 kernels for such CPUs cost the "
                "toy segmenter 1.6 mIoU (docs/deployment.md, 'OpenVINO (x86 CPUs)'); export the float graph "
                "for this CPU",
                logger="current",
                level=logging.WARNING,
            )
        self.compiled = core.compile_model(graph, "CPU", compile_settings(threads))
        self.request = self.compiled.create_infer_request()

    def run(self, images: Tensor) -> dict[str, Tensor]:
        """images (N, 3, H, W) float32 raw pixels -> the graph's outputs by name."""
        results = self.request.infer({"images": images.contiguous().numpy()}, share_inputs=True)
        return {name: torch.from_numpy(results[name].copy()) for name in self.meta["outputs"]}
