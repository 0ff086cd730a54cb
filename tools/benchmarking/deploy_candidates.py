"""Deployed forms of a visionkit model for ``tools/benchmark.py``: ONNX Runtime (float with default and
tuned session options, INT8 QDQ) and the share of the CPU's float peak a timing reaches."""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch import nn

from visionkit.analysis.complexity import count_complexity
from visionkit.apis.inference import build_test_pipeline, prepare_image
from visionkit.deploy.onnx_export import export_onnx
from visionkit.deploy.ort_session import import_onnxruntime, session_options
from visionkit.deploy.quantize import quantize_onnx
from visionkit.deploy.runtimes import ExecuTorchModel, OnnxRuntimeModel, OpenVinoModel, pad_stack

from .candidates import Candidate, onnxruntime_candidate
from .cpu_peak import CpuPeak, peak_share
from .timing import Timing


def _session(path: Path, options) -> object:
    return import_onnxruntime().InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnxruntime_candidates(
    model: nn.Module,
    cfg: Config,
    threads: int,
    image: np.ndarray,
    int8: bool = False,
    openvino: bool = False,
) -> list[Candidate]:
    """``model`` exported to ONNX (post-processing in the graph) in ONNX Runtime: with the options the
    benchmark always used (``threads`` intra- and inter-op threads, ONNX Runtime's defaults otherwise),
    with :func:`session_options` (what :class:`OnnxRuntimeModel` uses, ``tuned`` rows), and
    with ``int8`` the QDQ graph (every layer INT8, calibrated on ``image``: timing does not depend on
    calibration quality) under both. ``openvino`` adds the same files in OpenVINO (``threads`` threads)."""
    folder = Path(tempfile.mkdtemp(prefix="visionkit_benchmark_"))
    size = cfg.get("input_size", 224)
    export_onnx(copy.deepcopy(model), folder / "model.onnx", (size, size))
    ort = import_onnxruntime()
    default = ort.SessionOptions()
    default.intra_op_num_threads = default.inter_op_num_threads = threads
    candidates = []
    for name, path, options in (
        ("visionkit onnxruntime", folder / "model.onnx", default),
        ("visionkit onnxruntime tuned", folder / "model.onnx", session_options(threads)),
    ):
        runtime = OnnxRuntimeModel(cfg, path)
        runtime.session = _session(path, options)
        candidates.append(onnxruntime_candidate(name, runtime, cfg))
    if int8:
        runtime = OnnxRuntimeModel(cfg, folder / "model.onnx")
        sample = prepare_image(image, build_test_pipeline(cfg))["inputs"].float()
        calibration = [
            pad_stack([sample], runtime.meta["pad_pixel"], runtime.meta["pad_size_divisor"]).numpy()
        ]
        quantize_onnx(folder / "model.onnx", folder / "model.int8.onnx", calibration)
        # Under both option sets, so each INT8 row has its float row with the same session options.
        for name, options in (
            ("visionkit onnxruntime int8", default),
            ("visionkit onnxruntime int8 tuned", session_options(threads)),
        ):
            runtime = OnnxRuntimeModel(cfg, folder / "model.int8.onnx")
            runtime.session = _session(folder / "model.int8.onnx", options)
            candidates.append(onnxruntime_candidate(name, runtime, cfg))
    if openvino:
        files = {"visionkit openvino": "model.onnx", "visionkit openvino int8": "model.int8.onnx"}
        for name, file in list(files.items())[: 2 if int8 else 1]:
            runtime = OpenVinoModel(cfg, folder / file, threads=threads)
            candidates.append(onnxruntime_candidate(name, runtime, cfg))
    return candidates


def peak_share_column(
    model: nn.Module, cfg: Config, image: np.ndarray, peak: CpuPeak
) -> tuple[Callable[[Timing], float], int]:
    """(timing -> share of ``peak``, multiply-adds per image): the network's conv and linear
    multiply-adds on ``image`` prepared by the test pipeline (pre/post-processing not counted)."""
    batch = pseudo_collate([prepare_image(image, build_test_pipeline(cfg))])
    inputs = model.data_preprocessor(batch, False)["inputs"]
    madds = count_complexity(model, inputs, lambda m, x: m(x, mode="tensor")).madds
    return (lambda t: peak_share(madds, t.batch, t.median_ms, peak)), madds


def executorch_candidates(model: nn.Module, cfg: Config, image: np.ndarray, int8: bool) -> list[Candidate]:
    """``model`` as XNNPACK-delegated ExecuTorch programs (float, and INT8 calibrated on ``image``) in
    ExecuTorch's Python runtime; detection's NMS runs after the program, in Python."""
    from visionkit.deploy.executorch_export import export_executorch

    folder = Path(tempfile.mkdtemp(prefix="visionkit_benchmark_"))
    sample = prepare_image(image, build_test_pipeline(cfg))["inputs"].float()
    size = tuple(sample.shape[-2:])
    wrapper = export_executorch(copy.deepcopy(model), folder / "model.pte", size)
    padding = wrapper.normalize.pad_pixel(), wrapper.normalize.pad_size_divisor
    candidates = [
        onnxruntime_candidate("visionkit executorch", ExecuTorchModel(cfg, folder / "model.pte"), cfg)
    ]
    if int8:
        calibration = [pad_stack([sample], *padding).numpy()]
        export_executorch(copy.deepcopy(model), folder / "model.int8.pte", size, calibration)
        runtime = ExecuTorchModel(cfg, folder / "model.int8.pte")
        candidates.append(onnxruntime_candidate("visionkit executorch int8", runtime, cfg))
    return candidates
