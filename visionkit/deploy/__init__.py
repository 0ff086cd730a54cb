"""Deploy-time model transforms and runtimes: BatchNorm folding; ONNX / ExecuTorch export, INT8; the runtimes
that run the exported files (:mod:`.runtimes`)."""

from .fuse_bn import fuse_batchnorm
from .onnx_export import export_module, export_onnx
from .runtimes import RuntimeModel, build_runtime_model, is_runtime_file, runtime_names

__all__ = [
    "RuntimeModel",
    "build_runtime_model",
    "export_module",
    "export_onnx",
    "fuse_batchnorm",
    "is_runtime_file",
    "runtime_names",
]
