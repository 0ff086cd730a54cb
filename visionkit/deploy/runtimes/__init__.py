"""Inference runtimes for exported files: one base class (:class:`RuntimeModel`), one registry
(:data:`~visionkit.registry.RUNTIMES`), one switch from a file to its runtime (:func:`build_runtime_model`).

| runtime | files | extra |
|---|---|---|
| ``onnxruntime`` (default for ``.onnx``) | ``.onnx`` float / INT8 QDQ | ``deploy`` |
| ``openvino`` | ``.onnx`` float / INT8 QDQ | ``openvino`` |
| ``executorch`` | ``.pte`` float / INT8 | ``mobile`` |

A new runtime is a subclass of :class:`RuntimeModel` registered with its suffixes (docs/extending.md); the
tools' ``--runtime`` choices and :func:`visionkit.apis.init_model` find it through the registry.
"""

from __future__ import annotations

from pathlib import Path

from mmengine.config import Config

from ...registry import RUNTIMES
from .base import RuntimeModel, pad_stack
from .executorch import ExecuTorchModel
from .onnx_runtime import OnnxRuntimeModel
from .openvino import OpenVinoModel

__all__ = [
    "ExecuTorchModel",
    "OnnxRuntimeModel",
    "OpenVinoModel",
    "RuntimeModel",
    "build_runtime_model",
    "is_runtime_file",
    "pad_stack",
    "runtime_class",
    "runtime_names",
]


def runtime_names() -> list[str]:
    """The registered runtimes (the tools' ``--runtime`` choices)."""
    return list(RUNTIMES.module_dict)


def is_runtime_file(path: str | Path) -> bool:
    """Whether some runtime reads ``path`` (by its suffix), rather than PyTorch."""
    suffix = Path(path).suffix.lower()
    return any(suffix in runtime.suffixes for runtime in RUNTIMES.module_dict.values())


def runtime_class(path: str | Path, runtime: str | None = None) -> type[RuntimeModel]:
    """The runtime for ``path``: ``runtime`` by name (checked against the file's suffix), else the one
    whose ``default_for`` has the suffix, else the first that reads it."""
    suffix = Path(path).suffix.lower()
    readers = [name for name, cls in RUNTIMES.module_dict.items() if suffix in cls.suffixes]
    if runtime is None:
        if not readers:
            raise ValueError(f"No runtime reads '{path}' (runtimes: {', '.join(runtime_names())})")
        defaults = [name for name in readers if suffix in RUNTIMES.get(name).default_for]
        return RUNTIMES.get((defaults or readers)[0])
    if runtime not in RUNTIMES.module_dict:
        raise ValueError(f"Unknown runtime '{runtime}': the runtimes are {', '.join(runtime_names())}")
    cls = RUNTIMES.get(runtime)
    if suffix not in cls.suffixes:
        raise ValueError(
            f"Runtime '{runtime}' does not read '{suffix}' files like '{path}' (it reads "
            f"{', '.join(cls.suffixes)}); runtimes for '{suffix}': {', '.join(readers) or 'none'}"
        )
    return cls


def build_runtime_model(
    cfg: Config, path: str | Path, runtime: str | None = None, device: str = "cpu"
) -> RuntimeModel:
    """``path`` (an exported file) opened by ``runtime`` (default: the suffix's; :func:`runtime_class`)."""
    return runtime_class(path, runtime)(cfg, path, device)
