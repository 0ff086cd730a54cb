"""The task contract: what every task model (classifier, detector, segmentor, multi-task) implements.

A task model wires a backbone and heads and owns everything about its task's outputs, in one place that
``predict``, ONNX export, the ONNX Runtime backend, the benchmark and ``tools/infer.py`` all call:

- ``kind`` (class attribute): the kind of task, ``'classification'``, ``'detection'``, ``'segmentation'``...
  (:mod:`visionkit.outputs` has each kind's outputs; a multi-task model's tasks have names of their own)
- ``in_taps``: the backbone taps its heads read (from the heads' ``in_taps``); the backbone is
  built returning exactly those (:func:`~visionkit.models.backbones.build_tapped_backbone`), and heads are
  sized from the backbone's static tap table, so ``build_backbone=False`` gives the heads alone (what a
  :class:`MultiTaskModel` builds, feeding them its shared backbone).
- ``forward_taps(taps, data_samples, mode)``: ``'tensor'``, ``'loss'`` or ``'predict'`` from computed taps.
- ``export_head(input_size, postprocess)``: an :class:`ExportHead`, taps -> the named output tensors of an
  exported graph (raw outputs, or with post-processing such as NMS inside).
- ``postprocess_settings()``: the JSON-able settings :meth:`outputs_to_samples` needs.
- ``outputs_to_samples(outputs, data_samples, settings)`` (classmethod): named outputs (of ``export_head``
  or of ONNX Runtime) -> predictions written into the samples. ``'predict'`` goes through it too.

:class:`TaskModel` gives ``forward`` for every mode: it stamps ``batch_input_shape`` (the only place that
does) and predicts each group of equally sized images on its own (:func:`image_shape_groups`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from mmengine.model import BaseModel
from torch import Tensor, nn

from ...registry import MODELS
from ...structures import DataSample
from ..untrusted_text import shown
from .image_groups import image_shape_groups, pad_size_divisor, set_batch_input_shape

MODES = ("tensor", "loss", "predict")


class ExportHead(nn.Module):
    """A task model's part of an exported graph: ``forward(taps, inputs)`` -> tensors named ``output_names``.

    ``inputs`` is the normalised network input (N, 3, H, W) (its size, for outputs at input resolution).
    ``input_size`` is the (H, W) the graph is fixed to, or ``None`` when H and W stay dynamic.
    """

    output_names: tuple[str, ...] = ()
    input_size: tuple[int, int] | None = None

    def forward(self, taps: dict[str, Tensor], inputs: Tensor) -> tuple[Tensor, ...]:
        raise NotImplementedError


class TaskModel(BaseModel):
    """Base of the task models: the generic ``forward``; subclasses implement the contract above."""

    kind: ClassVar[str] = ""
    backbone: nn.Module | None
    in_taps: tuple[str, ...]

    def forward(
        self, inputs: Tensor, data_samples: list[DataSample] | None = None, mode: str = "tensor"
    ) -> Any:
        """``'tensor'`` -> the heads' raw outputs; ``'loss'`` -> dict of losses; ``'predict'`` -> the samples
        with predictions, each group of equally sized images run cropped to its ``img_shape``."""
        if mode not in MODES:
            raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got '{mode}'")
        if mode == "tensor":
            return self.forward_taps(self.backbone(inputs), [], mode)
        samples = data_samples if data_samples is not None else [DataSample() for _ in range(len(inputs))]
        if mode == "loss":
            set_batch_input_shape(inputs, samples)
            return self.forward_taps(self.backbone(inputs), samples, mode)
        for group_inputs, group in image_shape_groups(inputs, samples, pad_size_divisor(self)):
            set_batch_input_shape(group_inputs, group)
            self.predict(group_inputs, group)
        return samples

    def predict(self, inputs: Tensor, data_samples: Sequence[DataSample]) -> Sequence[DataSample]:
        """Predictions for inputs (N, 3, H, W) of one image size; the samples carry ``batch_input_shape``."""
        return self.forward_taps(self.backbone(inputs), list(data_samples), "predict")

    def forward_taps(self, taps: dict[str, Tensor], data_samples: list[DataSample], mode: str) -> Any:
        raise NotImplementedError

    def export_head(self, input_size: Sequence[int] | None, postprocess: bool = True) -> ExportHead:
        raise NotImplementedError(f"{type(self).__name__} has no export_head: it does not export")

    def postprocess_settings(self) -> dict[str, Any]:
        return {}

    @classmethod
    def outputs_to_samples(
        cls, outputs: dict[str, Tensor], data_samples: Sequence[DataSample], settings: dict[str, Any]
    ) -> Sequence[DataSample]:
        raise NotImplementedError


def registered_task_model(name: Any, source: str) -> type[TaskModel]:
    """The task model class registered in visionkit's ``MODELS`` as ``name`` (an exported file's metadata
    names it). Looked up among the registered names only: ``MODELS.get`` imports the module a dotted or
    scoped name names and returns any object in it (``posix.system``; ``this.s`` printed the Zen of Python
    at ``init_model`` of a ``.onnx``)."""
    cls = MODELS.module_dict.get(name) if type(name) is str else None
    if not (isinstance(cls, type) and issubclass(cls, TaskModel)):
        raise ValueError(
            f"{source} names {shown(name)} as its model type, which is not a visionkit task model"
        )
    return cls
