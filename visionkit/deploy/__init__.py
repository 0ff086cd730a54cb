"""Deploy-time model transforms: BatchNorm folding; ONNX export and ONNX Runtime inference."""

from .fuse_bn import fuse_batchnorm
from .onnx_export import export_module, export_onnx
from .onnx_runtime_model import OnnxRuntimeModel

__all__ = ["OnnxRuntimeModel", "export_module", "export_onnx", "fuse_batchnorm"]
