"""ONNX Runtime session options for CPU inference at small batches, used by every visionkit session.

ONNX Runtime's defaults take every core for the intra-op pool and also start an inter-op pool; the
graph optimisation level is already ``ORT_ENABLE_ALL`` (constant folding, conv + activation fusion, the
NCHWc layout transform on x86). What :func:`session_options` changes, and why:

- ``inter_op_num_threads = 1`` with sequential execution: these graphs are one chain of convolutions, so
  a second pool only competes with the first; ``intra_op_num_threads = threads`` when given;
- ``session.force_spinning_stop``: the intra-op threads spin between ops during a run (fast hand-overs)
  but stop when it returns. Left spinning, they kept a core busy for tens of milliseconds after each
  run, and the pre- and post-processing that follows (PyTorch's threads: test pipeline tensors, logits
  resized to the image, NMS) waited for it: ``inference_model`` on the multi-task toy model's graph
  took 30.6 ms per 512x512 photo with them spinning and 17.1 ms stopped (2 cores, docs/benchmarks.md);
- ``spin=False`` turns spinning off during runs too, for CPUs shared with other processes;
- ``session.x64quantprecision`` on x86 CPUs without VNNI (AVX512_VNNI or AVX-VNNI, as CPUID shows them):
  there ONNX Runtime's default uint8 x int8 kernels add pairs of products in saturating 16-bit arithmetic
  (``vpmaddubsw``), and two activations near 255 times per-channel weights near +-127 (what the INT8 export
  gives) overflow it; the entry takes its exact uint8 x uint8 kernels instead. Where VNNI is present the
  entry would take those slower kernels too (MobileNetV2 INT8 8.4 against 4.3 ms), so it is left out there.
  Measured in docs/deployment.md, "INT8 on x86 CPUs without VNNI".
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import torch

MISSING_EXTRA = "ONNX support needs onnxruntime: pip install -e '.[deploy]' (or pip install onnxruntime)"


def import_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or an ImportError that names the pip extra."""
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(MISSING_EXTRA) from error
    return onnxruntime


def cpu_has_vnni() -> bool:
    """Whether CPUID shows this process int8 dot products for ONNX Runtime's x86 int8 kernels (AVX512_VNNI
    or AVX-VNNI): ``torch.cpu.get_capabilities()``, or /proc/cpuinfo's flags on a torch without it."""
    if hasattr(torch.cpu, "get_capabilities"):
        found = torch.cpu.get_capabilities()
        return bool(found.get("avx512_vnni") or found.get("avx_vnni"))
    cpuinfo = Path("/proc/cpuinfo")
    flags = cpuinfo.read_text().split() if cpuinfo.exists() else []
    return "avx512_vnni" in flags or "avx_vnni" in flags


def int8_saturates() -> bool:
    """Whether ONNX Runtime's default int8 kernels saturate on this CPU: x86-64 without VNNI."""
    return platform.machine().lower() in ("x86_64", "amd64") and not cpu_has_vnni()


def use_exact_int8(options: Any) -> Any:
    """``options`` with ONNX Runtime's exact int8 kernels turned on where :func:`int8_saturates`."""
    if int8_saturates():
        options.add_session_config_entry("session.x64quantprecision", "1")
    return options


def session_options(threads: int | None = None, spin: bool = True) -> Any:
    """``onnxruntime.SessionOptions`` with ``threads`` intra-op threads (None: ONNX Runtime's choice,
    one per physical core); see the module docstring."""
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return use_exact_int8(options)
