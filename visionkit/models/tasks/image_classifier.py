"""Image classifier task model: backbone -> classifier head, on mmengine's ``BaseModel``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from torch import Tensor

from ...registry import MODELS
from ...structures import DataSample
from ..backbones import backbone_taps, build_tapped_backbone, fill_in_channels, head_taps
from ..converters.paddleclas_mobilenet_v2 import route_paddleclas_classifier_keys
from ..converters.tf_slim_mobilenet_v2 import route_tf_classifier_keys
from ..converters.timm_mobilenet import route_timm_classifier_keys
from ..converters.torchvision_classifier import route_torchvision_classifier_keys
from ..heads.classifier_head import scores_to_samples
from .task_model import ExportHead, TaskModel


class ClassifierExportHead(ExportHead):
    """taps -> ``scores`` (N, K) softmax probabilities."""

    output_names = ("scores",)

    def __init__(self, head: Any, input_size: Sequence[int] | None) -> None:
        super().__init__()
        self.head = head
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))

    def forward(self, taps: dict[str, Tensor], inputs: Tensor) -> tuple[Tensor]:
        return (self.head(taps).softmax(dim=1),)


@MODELS.register_module()
class ImageClassifier(TaskModel):
    """Wires a backbone and a :class:`ClassifierHead`; holds no head logic.

    ``head.in_channels`` defaults to the channels of the backbone tap the head reads (``head.in_taps``,
    default ``final``), so width variants only change the backbone. torchvision classifier state dicts
    (``mobilenet_v2``, ``mobilenet_v3_large`` / ``_small``) load directly (``load_state_dict``,
    ``load_from`` or :func:`visionkit.models.load_checkpoint`): ``features.*`` go to the backbone and
    ``classifier.*`` to the head, whose pre-hooks rename them. timm's MobileNets and PaddleClas's
    MobileNetV2 load the same way (``visionkit/models/converters/``).

    ``forward(inputs, data_samples, mode)``: ``'tensor'`` -> logits (N, K); ``'loss'`` -> dict of losses;
    ``'predict'`` -> the data samples with ``pred_score`` and ``pred_label`` (see :class:`TaskModel`).
    ``build_backbone=False`` builds the head alone, for a :class:`MultiTaskModel`.
    """

    kind = "classification"

    def __init__(
        self,
        backbone: dict,
        head: dict,
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
        build_backbone: bool = True,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        head = dict(head)
        self.in_taps = head_taps(head)
        fill_in_channels(head, backbone_taps(backbone, self.in_taps))
        self.backbone = build_tapped_backbone(backbone, self.in_taps) if build_backbone else None
        self.head = MODELS.build(head)
        # timm's and PaddleClas's first: their keys would pass for torchvision's ``classifier.*``.
        self._register_load_state_dict_pre_hook(route_timm_classifier_keys)
        self._register_load_state_dict_pre_hook(route_paddleclas_classifier_keys)
        self._register_load_state_dict_pre_hook(route_torchvision_classifier_keys)
        self._register_load_state_dict_pre_hook(
            partial(route_tf_classifier_keys, num_classes=self.head.num_classes)
        )

    def forward_taps(
        self, taps: dict[str, Tensor], data_samples: list[DataSample], mode: str
    ) -> Tensor | dict[str, Tensor] | list[DataSample]:
        """``forward`` from computed backbone taps (lets a :class:`MultiTaskModel` share the backbone)."""
        if mode == "tensor":
            return self.head(taps)
        if mode == "loss":
            return self.head.loss(taps, data_samples)
        if mode == "predict":
            return self.head.predict(taps, data_samples)
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got '{mode}'")

    def export_head(self, input_size: Sequence[int] | None, postprocess: bool = True) -> ClassifierExportHead:
        """Scores for a graph fixed to ``input_size`` (the test pipeline resizes to one size)."""
        return ClassifierExportHead(self.head, input_size)

    @classmethod
    def outputs_to_samples(
        cls, outputs: dict[str, Tensor], data_samples: Sequence[DataSample], settings: dict[str, Any]
    ) -> Sequence[DataSample]:
        """``scores`` (N, K) -> each sample's ``pred_score`` (K,) and ``pred_label`` (int)."""
        return scores_to_samples(outputs["scores"], data_samples)
