"""Image classifier task model: backbone -> classifier head, on mmengine's ``BaseModel``."""

from __future__ import annotations

from mmengine.model import BaseModel
from torch import Tensor

from ...registry import MODELS
from ...structures import DataSample
from ..backbones.torchvision_mobilenet_v2_keys import convert_torchvision_classifier_keys
from .image_groups import image_shape_groups, pad_size_divisor


@MODELS.register_module()
class ImageClassifier(BaseModel):
    """Wires a backbone and a :class:`ClassifierHead`; holds no head logic.

    ``head.in_channels`` defaults to the channels of the backbone tap the head reads, so width variants
    only change the backbone. torchvision ``mobilenet_v2`` state dicts load directly
    (``load_state_dict``, ``load_from`` or :func:`visionkit.models.load_checkpoint`).

    ``forward(inputs, data_samples, mode)``: ``'tensor'`` -> logits (N, K); ``'loss'`` -> dict of losses;
    ``'predict'`` -> the data samples with ``pred_score`` and ``pred_label``, each group of equally sized
    images run cropped to its ``img_shape`` (:func:`image_shape_groups`: the average pool must not see
    another image's padding).
    """

    def __init__(
        self, backbone: dict, head: dict, data_preprocessor: dict | None = None, init_cfg: dict | None = None
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        head = dict(head)
        in_tap = head.setdefault("in_tap", "final")
        if in_tap not in self.backbone.out_taps:
            raise ValueError(
                f"The head reads tap '{in_tap}' but the backbone returns only "
                f"{self.backbone.out_taps}: add it to backbone.out_taps"
            )
        head.setdefault("in_channels", self.backbone.tap_channels(in_tap))
        self.head = MODELS.build(head)
        self._register_load_state_dict_pre_hook(convert_torchvision_classifier_keys)

    def forward(
        self, inputs: Tensor, data_samples: list[DataSample] | None = None, mode: str = "tensor"
    ) -> Tensor | dict[str, Tensor] | list[DataSample]:
        if data_samples is None:
            data_samples = [] if mode == "tensor" else [DataSample() for _ in range(len(inputs))]
        if mode != "predict":
            return self.forward_taps(self.backbone(inputs), data_samples, mode)
        for group_inputs, group in image_shape_groups(inputs, data_samples, pad_size_divisor(self)):
            self.forward_taps(self.backbone(group_inputs), group, mode)
        return data_samples

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
