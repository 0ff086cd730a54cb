"""ONNX Runtime: runs the ``.onnx`` files of :func:`~visionkit.deploy.onnx_export.export_onnx` (float or INT8
QDQ) on the CPU, or on a GPU with onnxruntime-gpu. The default runtime for ``.onnx`` files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ...registry import RUNTIMES
from ..model_file_checks import check_onnx_file
from ..onnx_export import METADATA_KEY
from ..ort_session import import_onnxruntime, session_options
from .base import RuntimeModel


@RUNTIMES.register_module(name="onnxruntime")
class OnnxRuntimeModel(RuntimeModel):
    """An exported graph in an ``onnxruntime.InferenceSession`` (``device``: ``'cpu'`` or ``'cuda[:i]'``)."""

    suffixes = default_for = (".onnx",)
    int8_without_vnni = (
        "this CPU has no VNNI: ONNX Runtime runs it exactly only with its uint8 x uint8 kernels, measured no "
        "faster than the float graph on such CPUs (docs/deployment.md, 'INT8 on x86 CPUs without VNNI'); "
        "export the float graph for this CPU"
    )

    def load(self, path: Path, device: str) -> dict[str, Any]:
        check_onnx_file(path)
        ort = import_onnxruntime()
        providers: list[Any] = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": int(device.partition(":")[2] or 0)}))
        elif device != "cpu":
            raise ValueError(f"ONNX Runtime runs on 'cpu' or 'cuda[:i]', not '{device}'")
        self.session = ort.InferenceSession(str(path), session_options(), providers=providers)
        metadata = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in metadata:
            raise ValueError(f"'{path}' has no '{METADATA_KEY}' metadata: export it with tools/export.py")
        return json.loads(metadata[METADATA_KEY])

    def run(self, images: Tensor) -> dict[str, Tensor]:
        outputs = self.session.run(None, {"images": images.numpy()})
        return {name: torch.from_numpy(out) for name, out in zip(self.meta["outputs"], outputs, strict=True)}
