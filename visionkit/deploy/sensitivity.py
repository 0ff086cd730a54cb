"""Per-layer quantization sensitivity: how much the network's outputs move when one layer alone is INT8.

For each Conv / Gemm / MatMul of the network, a copy of the float graph with only that node quantized
(its input activation to uint8, its weights to per-channel int8, ranges from the same calibration as the
full INT8 model) runs on evaluation images; the layer's sensitivity is the relative error it causes at
the network's outputs (the tensors the heads hand to the export wrapper: logits, per-level class scores
and box offsets), ``sqrt(sum ||q - f||^2 / sum ||f||^2)`` per output, averaged over outputs. The same
for the fully quantized network gives the error to compare against.

:func:`select_float_layers` keeps in float the layers that stand out: an error at least ``ratio`` times
the median layer's, most sensitive first, at most ``max_layers``.
"""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import onnx

from .ort_session import use_exact_int8
from .quantize import (
    layer_name,
    network_modules,
    network_nodes,
    preprocess,
    quantizable_layers,
    quantize_graph,
)


class LayerSensitivity(NamedTuple):
    layer: str  # the task-model module, e.g. 'backbone.stem'
    node: str  # the ONNX node
    error: float  # relative output error with this layer alone in INT8


def network_outputs(model: onnx.ModelProto, network: dict[str, str]) -> list[str]:
    """Tensors the network's nodes produce for the export wrapper (or as graph outputs)."""
    inside = {node.name for node in model.graph.node if layer_name(node, network)}
    produced = {out: node.name for node in model.graph.node if node.name in inside for out in node.output}
    used_outside = {i for node in model.graph.node if node.name not in inside for i in node.input}
    used_outside |= {o.name for o in model.graph.output}
    return [name for name in produced if name in used_outside]


def _with_outputs(model: onnx.ModelProto, names: Sequence[str]) -> onnx.ModelProto:
    """``model`` with ``names`` added as float graph outputs (so their values can be read)."""
    present = {o.name for o in model.graph.output}
    for name in names:
        if name not in present:
            model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return model


def _run(path: Path, images: Sequence[np.ndarray], names: Sequence[str]) -> list[list[np.ndarray]]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # one layer's run is small; threads would only contend
    # Exact int8 products where the CPU lacks VNNI, as visionkit's sessions run them: the measured error
    # is then the quantization's, not ONNX Runtime's 16-bit saturation.
    use_exact_int8(options)
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return [session.run(list(names), {"images": image}) for image in images]


def relative_error(reference: list[list[np.ndarray]], got: list[list[np.ndarray]]) -> float:
    """Mean over outputs of sqrt(sum over images ||got - ref||^2 / sum ||ref||^2)."""
    errors = []
    for index in range(len(reference[0])):
        diff = sum(float(np.sum((g[index] - r[index]) ** 2)) for r, g in zip(reference, got, strict=True))
        norm = sum(float(np.sum(r[index] ** 2)) for r in reference)
        errors.append((diff / max(norm, 1e-30)) ** 0.5)
    return float(np.mean(errors))


def layer_sensitivity(
    float_path: str | Path, images: Sequence[np.ndarray], eval_images: Sequence[np.ndarray]
) -> tuple[list[LayerSensitivity], float]:
    """Each quantizable layer's sensitivity (graph order) and the fully quantized network's error.

    Args:
        images: calibration batches (as for :func:`quantize_onnx`).
        eval_images: batches the errors are measured on (different images from calibration's).
    """
    with tempfile.TemporaryDirectory(prefix="visionkit_sensitivity_") as folder:
        root = Path(folder)
        prepared = preprocess(float_path, root / "prepared.onnx")
        model = onnx.load(str(prepared))
        network = network_modules(onnx.load(str(float_path), load_external_data=False))
        outputs = network_outputs(model, network)
        onnx.save(_with_outputs(model, outputs), str(root / "probed.onnx"))
        probed, cache = root / "probed.onnx", root / "ranges.json"
        reference = _run(probed, eval_images, outputs)
        quantize_graph(probed, root / "all.onnx", images, network_nodes(model, network), cache)
        full_error = relative_error(reference, _run(root / "all.onnx", eval_images, outputs))
        results = []
        for node, layer in quantizable_layers(model, network).items():
            single = quantize_graph(probed, root / "single.onnx", None, [node], cache)
            results.append(
                LayerSensitivity(layer, node, relative_error(reference, _run(single, eval_images, outputs)))
            )
    return results, full_error


def select_float_layers(
    sensitivities: Sequence[LayerSensitivity], ratio: float = 4.0, max_layers: int = 3
) -> list[str]:
    """Layers whose error is at least ``ratio`` x the median layer error, most sensitive first."""
    if not sensitivities:
        return []
    median = statistics.median(s.error for s in sensitivities)
    ranked = sorted(sensitivities, key=lambda s: s.error, reverse=True)
    chosen: list[str] = []
    for entry in ranked:
        if entry.error < ratio * median or len(chosen) >= max_layers:
            break
        if entry.layer not in chosen:
            chosen.append(entry.layer)
    return chosen


def format_sensitivity(sensitivities: Sequence[LayerSensitivity], full_error: float, top: int = 10) -> str:
    """The ``top`` most sensitive layers and the full INT8 network's error, as a text table."""
    ranked = sorted(sensitivities, key=lambda s: s.error, reverse=True)[:top]
    width = max((len(s.layer) for s in ranked), default=5)
    lines = [f"{'layer':<{width}}  relative output error (this layer alone in INT8)"]
    lines += [f"{s.layer:<{width}}  {s.error:.4f}" for s in ranked]
    median = statistics.median(s.error for s in sensitivities) if sensitivities else float("nan")
    lines.append(f"median over {len(sensitivities)} layers: {median:.4f}; every layer INT8: {full_error:.4f}")
    return "\n".join(lines)
