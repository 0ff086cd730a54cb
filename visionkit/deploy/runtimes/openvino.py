"""OpenVINO: runs the same ``.onnx`` files (float or INT8 QDQ) on an x86 CPU (``--runtime openvino``).

Why a second runtime for the same file: on Intel CPUs OpenVINO runs an INT8 QDQ graph on oneDNN's
VNNI / AMX kernels, int8 depthwise convolutions included, where ONNX Runtime's int8 depthwise kernel is
no faster than its float one (docs/benchmarks.md). Float graphs run in float32: OpenVINO would otherwise
pick bfloat16 on CPUs with AMX, which changes the outputs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from mmengine.config import Config
from torch import Tensor

from ...registry import RUNTIMES
from ..model_file_checks import check_onnx_file
from ..onnx_export import METADATA_KEY
from .base import RuntimeModel


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


@RUNTIMES.register_module(name="openvino")
class OpenVinoModel(RuntimeModel):
    """An exported ``.onnx`` file compiled by OpenVINO for the CPU (``threads``: inference threads, default
    OpenVINO's, one per core)."""

    suffixes = (".onnx",)
    int8_without_vnni = (
        "this CPU has no VNNI: OpenVINO's int8 kernels for such CPUs cost the toy segmenter 1.6 mIoU "
        "(docs/deployment.md, 'OpenVINO (x86 CPUs)'); export the float graph for this CPU"
    )

    def __init__(
        self, cfg: Config, path: str | Path, device: str = "cpu", threads: int | None = None
    ) -> None:
        self.threads = threads
        super().__init__(cfg, path, device)

    def load(self, path: Path, device: str) -> dict[str, Any]:
        if device != "cpu":
            raise ValueError(f"visionkit runs OpenVINO on the CPU, not '{device}'")
        check_onnx_file(path)
        core = import_openvino().Core()
        graph = core.read_model(str(path))
        # OpenVINO's ONNX reader keeps the file's metadata_props under rt_info["framework"].
        key = ["framework", METADATA_KEY]
        if not graph.has_rt_info(key):
            raise ValueError(f"'{path}' has no '{METADATA_KEY}' metadata: export it with tools/export.py")
        self.compiled = core.compile_model(graph, "CPU", compile_settings(self.threads))
        self.request = self.compiled.create_infer_request()
        return json.loads(graph.get_rt_info(key).astype(str))

    def run(self, images: Tensor) -> dict[str, Tensor]:
        results = self.request.infer({"images": images.contiguous().numpy()}, share_inputs=True)
        return {name: torch.from_numpy(results[name].copy()) for name in self.meta["outputs"]}
