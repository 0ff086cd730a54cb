"""ONNX Runtime session options for CPU inference at small batches.

ONNX Runtime's defaults take every core for the intra-op pool and also start an inter-op pool; the
graph optimisation level is already ``ORT_ENABLE_ALL`` (constant folding, conv + activation fusion, the
NCHWc layout transform on x86). What :func:`session_options` changes, and why:

- ``intra_op_num_threads = threads`` and ``inter_op_num_threads = 1`` with sequential execution: these
  graphs are one chain of convolutions, so a second pool only competes with the first;
- ``allow_spinning``: idle intra-op threads spin between ops (ONNX Runtime's default, kept when
  ``spin=True``); on a CPU shared with other processes, spinning steals cycles, so ``spin=False``
  yields instead. Measure both (tools/benchmark.py --onnx) on the target machine.
"""

from __future__ import annotations

from typing import Any

from .onnx_runtime_model import import_onnxruntime


def session_options(threads: int, spin: bool = True) -> Any:
    """``onnxruntime.SessionOptions`` for ``threads`` intra-op threads (see the module docstring)."""
    ort = import_onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return options
