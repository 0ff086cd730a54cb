"""Export a task model to ONNX: raw pixels in, the task model's named outputs out.

Every graph takes ``images`` (N, 3, H, W) float32 pixel values 0..255 in the channel order the test pipeline
gives (RGB for ours); the data preprocessor's normalisation (channel swap, mean, std) is inside the graph,
then the backbone runs once and the task model's :meth:`~visionkit.models.tasks.TaskModel.export_head`
gives the outputs. The batch axis is dynamic in every graph; H and W are dynamic where the export head
allows it (segmentation, whose test pipeline keeps each image's own size) and fixed otherwise
(classification and detection: their pipelines resize to one size; the anchors are constants of it, and a
static size exports faster). Outputs:

- classification: ``scores`` (N, K) softmax probabilities.
- segmentation: ``logits`` (N, K, H, W) at the input size and ``labels`` (N, H, W) int64, their argmax.
- detection, raw: ``scores`` (N, A, K) softmax without the background and ``boxes`` (N, A, 4) decoded xyxy
  input pixels for each of the A anchors.
- detection with post-processing: ``boxes`` (N, D, 4) xyxy input pixels, ``scores`` (N, D), ``labels``
  (N, D) int64 and ``num_detections`` (N,) int64; D = min(``max_per_img``, ``nms_pre``), rows past
  ``num_detections`` are zero (labels -1). Score threshold, top ``nms_pre``, per-class NMS and the ranking
  are the head's :meth:`predict` settings.
- multi-task: every task's outputs, named ``'<task>.<output>'``, from one backbone pass.

The file carries metadata ``visionkit`` (JSON: task, model type, post-processing settings, input size,
padding, dataset meta) that the runtimes (:mod:`visionkit.deploy.runtimes`) read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..models.tasks import TaskModel
from .onnx_nms import ONNX_TRANSLATIONS

METADATA_KEY = "visionkit"


class Normalize(nn.Module):
    """The data preprocessor's normalisation: raw pixels (N, 3, H, W) 0..255 -> network input."""

    def __init__(self, preprocessor: nn.Module) -> None:
        super().__init__()
        self.swap_channels = bool(getattr(preprocessor, "_channel_conversion", False))
        normalize = getattr(preprocessor, "_enable_normalize", False)
        self.register_buffer("mean", preprocessor.mean.clone() if normalize else torch.zeros(3, 1, 1))
        self.register_buffer("std", preprocessor.std.clone() if normalize else torch.ones(3, 1, 1))
        self.pad_value = float(getattr(preprocessor, "pad_value", 0))
        self.pad_size_divisor = int(getattr(preprocessor, "pad_size_divisor", 1))

    def forward(self, images: Tensor) -> Tensor:
        if self.swap_channels:
            images = images[:, [2, 1, 0]]
        return (images - self.mean) / self.std

    def pad_pixel(self) -> list[float]:
        """The raw pixel that normalises to the data preprocessor's padding value."""
        pixel = (self.mean + self.pad_value * self.std).flatten().tolist()
        return pixel[::-1] if self.swap_channels else pixel


class ExportGraph(nn.Module):
    """images (N, 3, H, W) raw pixels -> normalise -> backbone (once) -> the task model's export head."""

    def __init__(self, model: TaskModel, input_size: Sequence[int], postprocess: bool = True) -> None:
        super().__init__()
        self.model_type = type(model).__name__
        self.kind, self.settings = model.kind, model.postprocess_settings()
        self.normalize, self.backbone = Normalize(model.data_preprocessor), model.backbone
        self.head = model.export_head(input_size, postprocess)
        self.output_names = self.head.output_names
        self.input_size = self.head.input_size
        self.network = network_modules(self, model)

    def forward(self, images: Tensor) -> tuple[Tensor, ...]:
        inputs = self.normalize(images)
        outputs = self.head(self.backbone(inputs), inputs)
        return outputs[0] if len(outputs) == 1 else outputs


def network_modules(graph: nn.Module, model: nn.Module) -> dict[str, str]:
    """The network inside ``graph``: its outermost modules that are ``model``'s own (the backbone, the
    heads' layers), graph path -> path in ``model``. The wrapper's normalisation and export heads (softmax,
    box decoding, NMS, resize) are not among them; INT8 quantizes exactly these (:mod:`.quantize`)."""
    names = {id(module): name for name, module in model.named_modules() if name}
    network: dict[str, str] = {}
    for name, module in graph.named_modules():
        inside = any(name.startswith(f"{root}.") for root in network)
        if not inside and id(module) in names:
            network[name] = names[id(module)]
    return network


def export_module(model: nn.Module, input_size: Sequence[int], postprocess: bool = True) -> ExportGraph:
    """The graph to export for ``model`` (a task model), in eval mode, for inputs of ``input_size`` (H, W)."""
    if not isinstance(model, TaskModel):
        raise TypeError(f"No ONNX export for {type(model).__name__}: only task models (TaskModel) export")
    return ExportGraph(model, input_size, postprocess).eval()


def export_metadata(graph: ExportGraph, dataset_meta: dict | None = None) -> dict[str, Any]:
    """What a runtime (:mod:`~visionkit.deploy.runtimes`) needs beside the graph to turn its outputs into
    predictions."""
    return {
        "kind": graph.kind,
        "model_type": graph.model_type,
        "settings": graph.settings,
        "outputs": list(graph.output_names),
        "input_size": None if graph.input_size is None else list(graph.input_size),
        "pad_pixel": graph.normalize.pad_pixel(),
        "pad_size_divisor": graph.normalize.pad_size_divisor,
        "network": graph.network,
        "dataset_meta": dataset_meta or {},
    }


def export_onnx(
    model: nn.Module,
    path: str | Path,
    input_size: Sequence[int],
    postprocess: bool = True,
    opset: int | None = None,
) -> nn.Module:
    """Write ``model`` (a built task model) as ONNX to ``path``; returns the wrapper that was exported.

    The graph is traced at batch 2 and ``input_size`` (H, W) with torch.onnx's ``torch.export``-based
    exporter; the batch axis (and for segmentation H and W) stay dynamic.
    """
    wrapper = export_module(model, input_size, postprocess)
    example = torch.randint(0, 256, (2, 3, *input_size)).float()
    dynamic_axes = (0, 2, 3) if wrapper.input_size is None else (0,)
    names = {0: "batch", 2: "height", 3: "width"}
    program = torch.onnx.export(
        wrapper,
        (example,),
        dynamo=True,
        input_names=["images"],
        output_names=list(wrapper.output_names),
        dynamic_shapes={"images": {axis: torch.export.Dim(names[axis]) for axis in dynamic_axes}},
        opset_version=opset,
        custom_translation_table=ONNX_TRANSLATIONS,
        verbose=False,
    )
    # The exporter may fall back to a strategy that fixes a dynamic axis (e.g. after a len(tensor)).
    shape = program.model.graph.inputs[0].shape
    fixed = [names[axis] for axis in dynamic_axes if isinstance(shape[axis], int)]
    if fixed:
        raise RuntimeError(
            f"The ONNX exporter fixed the {fixed} axes of the input of {type(model).__name__}: the model "
            "reads a size as a Python int somewhere (len(), int(), a comparison); see docs/deployment.md"
        )
    metadata = export_metadata(wrapper, getattr(model, "dataset_meta", None))
    program.model.metadata_props[METADATA_KEY] = json.dumps(metadata, default=list)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    program.save(str(path))
    return wrapper
