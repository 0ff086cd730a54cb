"""ExecuTorch: runs the ``.pte`` programs of :func:`~visionkit.deploy.executorch_export.export_executorch`
(float or INT8, XNNPACK) in ExecuTorch's Python runtime; the metadata is the ``<file>.pte.json`` beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ...registry import RUNTIMES
from ..executorch_export import require_executorch
from ..model_file_checks import check_pte_file
from .base import RuntimeModel


@RUNTIMES.register_module(name="executorch")
class ExecuTorchModel(RuntimeModel):
    """A ``.pte`` program on the CPU (one input size; a batch runs image by image)."""

    suffixes = default_for = (".pte",)

    def load(self, path: Path, device: str) -> dict[str, Any]:
        if device != "cpu":
            raise ValueError(f"ExecuTorch runs on the CPU here (XNNPACK), not '{device}'")
        require_executorch()
        check_pte_file(path)
        from executorch.runtime import Runtime

        meta_path = Path(f"{path}.json")
        if not meta_path.is_file():
            raise FileNotFoundError(f"'{meta_path}' (the metadata beside the program) is missing: re-export")
        meta = json.loads(meta_path.read_text())
        self.method = Runtime.get().load_program(path).load_method("forward")
        return meta

    def run(self, images: Tensor) -> dict[str, Tensor]:
        per_image = [self.method.execute([image[None].contiguous()]) for image in images]
        return {
            name: torch.cat([outputs[index] for outputs in per_image])
            for index, name in enumerate(self.meta["outputs"])
        }
