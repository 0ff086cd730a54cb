"""Export a task model to ExecuTorch (``.pte``, XNNPACK delegate), float or INT8, and run it in Python.

The program is the same wrapper the ONNX export traces (raw pixels in, normalisation inside; see
:mod:`.onnx_export`), at one fixed input size, with detection's raw outputs (per-anchor ``scores`` and
decoded ``boxes``): score threshold and per-class NMS run after it in Python, as for an ONNX graph
exported with ``--no-postprocess``, because ExecuTorch has no kernel for our NMS operator.

INT8 follows PT2E: ``torch.export`` -> ``prepare_pt2e`` with XNNPACK's quantizer (int8 symmetric
per-channel weights, int8 per-tensor activations) on the network's nodes (backbone, neck, head layers; not
the normalisation or box decoding) -> calibration on the config's images -> ``convert_pt2e`` -> lowering
to XNNPACK. Everything XNNPACK takes is delegated; the rest runs on ExecuTorch's portable kernels.

The ``visionkit`` metadata (task, outputs, input size, padding, NMS settings, dataset meta) is written
beside the program as ``<file>.pte.json``; :class:`~visionkit.deploy.runtimes.ExecuTorchModel` reads it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from .onnx_export import export_metadata, export_module

MISSING_EXTRA = "ExecuTorch export needs the mobile extra: pip install -e '.[mobile]' (executorch)"


def require_executorch() -> None:
    """Raise an ImportError naming the pip extra when ExecuTorch is not installed."""
    try:
        import executorch.exir  # noqa: F401
    except ImportError as error:
        raise ImportError(MISSING_EXTRA) from error


def in_network(node: torch.fx.Node, network: Sequence[str]) -> bool:
    """Whether an exported graph's ``node`` belongs to the ``network`` modules (graph paths), or is a
    parameter, constant or input (which carry no module stack and are quantized with the ops using them)."""
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return node.op != "call_function"
    paths = [path for path, _ in stack.values()]
    return any(path == name or path.startswith(f"{name}.") for path in paths for name in network)


def _quantize_pt2e(wrapper: nn.Module, example: Tensor, images: Iterable[np.ndarray]) -> nn.Module:
    """The wrapper's network quantized by PT2E + XNNPACKQuantizer, calibrated on ``images``; the wrapper's
    own arithmetic (normalisation, softmax, box decoding) stays float, as in the ONNX INT8 graphs."""
    from executorch.backends.xnnpack.quantizer.xnnpack_quantizer import (
        XNNPACKQuantizer,
        get_symmetric_quantization_config,
    )
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e

    # A node filter, not set_module_name: that one also asks it of a conv's weight, which has no module
    # stack in torch.export's graph, so no conv was annotated (checked: the program came out float).
    network = list(wrapper.network)
    quantizer = (
        XNNPACKQuantizer()
        .set_global(get_symmetric_quantization_config(is_per_channel=True))
        .set_filter_function(lambda node: in_network(node, network))
    )
    captured = torch.export.export(wrapper, (example,)).module()
    prepared = prepare_pt2e(captured, quantizer)
    with torch.no_grad():
        for image in images:
            prepared(torch.from_numpy(image))
    return convert_pt2e(prepared)


def export_executorch(
    model: nn.Module,
    path: str | Path,
    input_size: Sequence[int],
    calibration: Iterable[np.ndarray] | None = None,
) -> nn.Module:
    """Write ``model`` as an XNNPACK-delegated ``.pte`` for (1, 3, H, W) raw-pixel inputs; INT8 when
    ``calibration`` batches (1, 3, H, W) float32 are given. Returns the float wrapper it was made from."""
    require_executorch()
    from executorch.backends.xnnpack.partition.xnnpack_partitioner import XnnpackPartitioner
    from executorch.exir import to_edge_transform_and_lower

    wrapper = export_module(model, input_size, postprocess=False)
    if wrapper.input_size is None:  # a program has one input size, dynamic in ONNX or not
        wrapper.input_size = (int(input_size[0]), int(input_size[1]))
    example = torch.randint(0, 256, (1, 3, *input_size)).float()
    program_module = wrapper if calibration is None else _quantize_pt2e(wrapper, example, calibration)
    exported = torch.export.export(program_module, (example,))
    program = to_edge_transform_and_lower(exported, partitioner=[XnnpackPartitioner()]).to_executorch()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(program.buffer)
    meta = export_metadata(wrapper, getattr(model, "dataset_meta", None))
    meta["input_size"] = list(wrapper.input_size)
    meta["quantization"] = None if calibration is None else "PT2E XNNPACKQuantizer int8 per-channel"
    Path(f"{path}.json").write_text(json.dumps(meta, default=list))
    return wrapper
