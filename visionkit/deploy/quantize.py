"""Post-training static INT8 quantization of an exported graph (ONNX Runtime, QDQ format).

What is quantized: the network, i.e. every node the task model's modules produced (backbone, neck, heads;
recognised by the exporter's ``name_scopes`` metadata): weights int8, symmetric, per output channel;
activations uint8, asymmetric, per tensor, with MinMax ranges from calibration images. What stays float:
what the export wrapper adds around the network (normalisation, softmax, box decoding, NMS, the final
resize and argmax), so box pixels and probabilities are never rounded to 8 bits; and the layers named in
``keep_float``, chosen by :func:`~visionkit.deploy.sensitivity.layer_sensitivity`.

The written file keeps the float graph's ``visionkit`` metadata, with ``quantization`` added (formats,
calibration, the layers kept in float), so :class:`~visionkit.deploy.runtimes.RuntimeModel`
runs it as it runs the float graph.
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from .onnx_export import METADATA_KEY

QUANTIZABLE_OPS = ("Conv", "Gemm", "MatMul")
MISSING_EXTRA = "INT8 quantization needs onnx and onnxruntime: pip install -e '.[deploy]'"


def _ort_quantization() -> Any:
    try:
        from onnxruntime import quantization
    except ImportError as error:
        raise ImportError(MISSING_EXTRA) from error
    return quantization


def _scopes(node: onnx.NodeProto) -> list[str]:
    """The module path of a node, outermost first (``['', 'model.backbone', ...]``), from the exporter."""
    for prop in node.metadata_props:
        if prop.key == "pkg.torch.onnx.name_scopes":
            return list(ast.literal_eval(prop.value))
    return []


def network_modules(model: onnx.ModelProto) -> dict[str, str]:
    """The exported graph's network (its ``visionkit`` metadata ``network``): graph module path -> the
    task model's module path (:func:`~visionkit.deploy.onnx_export.network_modules`)."""
    meta = json.loads(_metadata(model).get(METADATA_KEY, "{}"))
    if "network" not in meta:
        raise ValueError("The ONNX graph does not say which nodes are the network: export it again")
    return meta["network"]


def layer_name(node: onnx.NodeProto, network: dict[str, str]) -> str:
    """The task-model module a node comes from: ``backbone.blocks.3.expand``,
    ``tasks.detection.head.reg_convs.1.0`` (``.conv`` / ``.bn`` of a conv-norm-act block dropped, so a
    fused conv is named once), or ``''`` outside the network (the export wrapper's own ops).

    ``network``: :func:`network_modules` of the exported graph."""
    for scope in reversed(_scopes(node)):
        root = next((r for r in network if scope == r or scope.startswith(f"{r}.")), None)
        if root is not None:
            name = network[root] + scope[len(root) :]
            for suffix in (".bn", ".conv", ".norm"):
                name = name.removesuffix(suffix)
            return name
    return ""


def network_nodes(model: onnx.ModelProto, network: dict[str, str]) -> list[str]:
    """Names of the nodes the task model produced (everything but the export wrapper's own ops)."""
    nodes = [node.name for node in model.graph.node if layer_name(node, network)]
    if not nodes:  # onnxruntime reads an empty node list as "quantize everything"
        raise ValueError("No node of the ONNX graph comes from the network: export it again")
    return nodes


def quantizable_layers(model: onnx.ModelProto, network: dict[str, str]) -> dict[str, str]:
    """Node name -> layer name of each Conv / Gemm / MatMul of the network, in graph order."""
    return {
        node.name: layer_name(node, network)
        for node in model.graph.node
        if node.op_type in QUANTIZABLE_OPS and layer_name(node, network)
    }


class _Reader:
    """onnxruntime's ``CalibrationDataReader`` protocol over a list of input batches."""

    def __init__(self, images: Sequence[np.ndarray], input_name: str = "images") -> None:
        self.images, self.input_name, self.index = list(images), input_name, 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.index >= len(self.images):
            return None
        self.index += 1
        return {self.input_name: self.images[self.index - 1]}

    def __len__(self) -> int:
        return len(self.images)


def preprocess(float_path: str | Path, out_path: str | Path) -> Path:
    """onnxruntime's ``quant_pre_process`` (shape inference, basic graph optimisation) into ``out_path``.

    Its symbolic shape inference gives up on graphs with dynamic H and W (segmentation); ONNX's own
    shape inference then does. Its graph optimisation drops every node's module scopes on some graphs
    (all 266 nodes of the toy SSDLite's, none of the classifier's), and the scopes say which nodes are the
    network: then it runs again without that optimisation (the export has folded BatchNorm already, and
    ONNX Runtime optimises the quantized graph when it loads it). It runs in ``out_path``'s folder: the
    failed attempt leaves temporary files in the working directory."""
    quantization = _ort_quantization()
    source, target = str(Path(float_path).resolve()), Path(out_path).resolve()

    def run(**options: bool) -> dict[str, bool]:
        """One pre-processing into ``target``; returns the options it succeeded with."""
        try:
            quantization.quant_pre_process(source, str(target), **options)
        except Exception as error:  # onnxruntime raises a bare Exception for exactly this
            if "symbolic shape inference" not in str(error):
                raise
            options = {**options, "skip_symbolic_shape": True}
            quantization.quant_pre_process(source, str(target), **options)
        return options

    cwd = os.getcwd()
    os.chdir(target.parent)
    try:
        options = run()
        if not _has_scopes(onnx.load(str(target), load_external_data=False)) and _has_scopes(
            onnx.load(source, load_external_data=False)
        ):
            run(**options, skip_optimization=True)
    finally:
        os.chdir(cwd)
    return target


def _has_scopes(model: onnx.ModelProto) -> bool:
    return any(_scopes(node) for node in model.graph.node)


def quantize_graph(
    prepared_path: str | Path,
    out_path: str | Path,
    images: Sequence[np.ndarray] | None,
    nodes: Iterable[str],
    cache_path: str | Path | None = None,
) -> Path:
    """QDQ-quantize ``nodes`` of the pre-processed graph (per-channel int8 weights, uint8 activations).

    ``images``: calibration batches; may be None when ``cache_path`` already holds the ranges
    (onnxruntime's calibration cache, so repeated quantizations of one graph calibrate once).
    """
    quantization = _ort_quantization()
    quantization.quantize_static(
        str(prepared_path),
        str(out_path),
        _Reader(images) if images is not None else None,
        quant_format=quantization.QuantFormat.QDQ,
        per_channel=True,
        activation_type=quantization.QuantType.QUInt8,
        weight_type=quantization.QuantType.QInt8,
        nodes_to_quantize=list(nodes),
        calibrate_method=quantization.CalibrationMethod.MinMax,
        calibration_cache_path=None if cache_path is None else str(cache_path),
    )
    return Path(out_path)


def quantize_onnx(
    float_path: str | Path,
    out_path: str | Path,
    images: Sequence[np.ndarray],
    keep_float: Sequence[str] = (),
    calibration: dict[str, Any] | None = None,
) -> Path:
    """Write the INT8 QDQ version of the exported graph at ``float_path`` to ``out_path``.

    Args:
        images: calibration batches, (1, 3, H, W) float32 raw pixels (:func:`calibration_images`).
        keep_float: layer names (:func:`layer_name`) whose nodes stay float.
        calibration: what the images were (split, count), recorded in the metadata.
    """
    if not images:
        raise ValueError("quantize_onnx needs at least one calibration image")
    with tempfile.TemporaryDirectory(prefix="visionkit_int8_") as folder:
        prepared = preprocess(float_path, Path(folder) / "prepared.onnx")
        graph = onnx.load(str(prepared), load_external_data=False)
        network = network_modules(onnx.load(str(float_path), load_external_data=False))
        layers = {node.name: layer_name(node, network) for node in graph.graph.node}
        unknown = sorted(set(keep_float) - set(layers.values()))
        if unknown:
            raise ValueError(f"keep_float names layers the graph does not have: {unknown}")
        nodes = [node for node in network_nodes(graph, network) if layers[node] not in set(keep_float)]
        quantize_graph(prepared, out_path, images, nodes)
    quantized = onnx.load(str(out_path))
    meta = json.loads(_metadata(onnx.load(str(float_path), load_external_data=False))[METADATA_KEY])
    meta["quantization"] = {
        "format": "QDQ",
        "weights": "int8 symmetric per output channel",
        "activations": "uint8 asymmetric per tensor (MinMax calibration)",
        "calibration": dict(calibration or {}, images=len(images)),
        "float_layers": list(keep_float),
    }
    _set_metadata(quantized, {METADATA_KEY: json.dumps(meta, default=list)})
    onnx.save(quantized, str(out_path))
    return Path(out_path)


def _metadata(model: onnx.ModelProto) -> dict[str, str]:
    return {prop.key: prop.value for prop in model.metadata_props}


def _set_metadata(model: onnx.ModelProto, values: dict[str, str]) -> None:
    kept = [(p.key, p.value) for p in model.metadata_props if p.key not in values]
    del model.metadata_props[:]
    for key, value in [*kept, *values.items()]:
        model.metadata_props.add(key=key, value=value)


def layer_precisions(model: onnx.ModelProto) -> dict[str, str]:
    """Each Conv / Gemm / MatMul layer of a quantized graph's network -> ``'int8'`` (its weights come
    through a DequantizeLinear of an int8 initializer) or ``'float'``: what the graph does, to hold
    against what its metadata says."""
    network = network_modules(model)
    int8 = {i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8}
    dequantized = {
        n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in int8
    }
    return {
        layer: "int8" if len(node.input) > 1 and node.input[1] in dequantized else "float"
        for node, layer in ((n, layer_name(n, network)) for n in model.graph.node)
        if node.op_type in QUANTIZABLE_OPS and layer
    }


def quantized_layer_count(model: onnx.ModelProto) -> dict[str, int]:
    """How many Conv / Gemm / MatMul nodes take int8 weights (a DequantizeLinear of an int8 initializer)
    and how many stay float: the check that a graph is INT8 where it should be."""
    int8 = {i.name for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8}
    dequantized = {
        n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear" and n.input[0] in int8
    }
    counts = {"int8": 0, "float": 0}
    for node in model.graph.node:
        if node.op_type in QUANTIZABLE_OPS:
            counts["int8" if len(node.input) > 1 and node.input[1] in dequantized else "float"] += 1
    return counts
