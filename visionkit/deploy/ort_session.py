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
- ``spin=False`` turns spinning off during runs too, for CPUs shared with other processes.
"""

from __future__ import annotations

from typing import Any

MISSING_EXTRA = "ONNX support needs onnxruntime: pip install -e '.[deploy]' (or pip install onnxruntime)"


def import_onnxruntime() -> Any:
    """The ``onnxruntime`` module, or an ImportError that names the pip extra."""
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(MISSING_EXTRA) from error
    return onnxruntime


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
    return options
