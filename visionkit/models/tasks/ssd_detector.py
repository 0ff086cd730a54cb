"""SSD-style single-shot detector task model: backbone taps + extra layers -> SSDLite head."""

from __future__ import annotations

from mmengine.model import BaseModel
from torch import Tensor

from ...registry import MODELS, TASK_UTILS
from ...structures import DataSample
from .image_groups import image_shape_groups, pad_size_divisor, set_batch_input_shape
from .mmdet_ssd_keys import convert_mmdet_ssd_keys


@MODELS.register_module()
class SSDDetector(BaseModel):
    """Wires backbone, neck and head; holds no head logic (MobileNetV2 paper section 6.2).

    The head reads every backbone tap in ``backbone.out_taps`` order (``layer15_expansion``, ``final``),
    then each output of the neck, which runs on the last tap. The channel counts the neck and head need
    (``neck.in_channels``, ``head.in_channels``) are filled in from ``backbone.tap_channels`` and
    ``neck.out_channels``; the anchor generator is built here and handed to the head, which sizes its
    outputs from it.

    ``forward(inputs, data_samples, mode)``: ``'tensor'`` -> (class scores, box deltas), per-level lists;
    ``'loss'`` -> ``dict(loss_cls, loss_bbox)``; ``'predict'`` -> the samples with ``pred_bboxes``,
    ``pred_scores``, ``pred_labels`` (see :class:`DataSample`). Before the head runs, each sample's metainfo
    gets ``batch_input_shape``: the (H, W) of ``inputs``, after any padding by the data preprocessor.
    ``'predict'`` runs each group of equally sized images cropped to its ``img_shape``
    (:func:`image_shape_groups`), so a prediction does not depend on the other images of the batch.
    """

    def __init__(
        self,
        backbone: dict,
        neck: dict,
        head: dict,
        anchor_generator: dict,
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.in_taps = tuple(self.backbone.out_taps)
        neck = dict(neck)
        neck.setdefault("in_channels", self.backbone.tap_channels(self.backbone.out_taps[-1]))
        self.neck = MODELS.build(neck)
        head = dict(head)
        tap_channels = [self.backbone.tap_channels(name) for name in self.backbone.out_taps]
        head.setdefault("in_channels", tap_channels + list(self.neck.out_channels))
        head["anchor_generator"] = TASK_UTILS.build(anchor_generator)
        self.head = MODELS.build(head)
        self._register_load_state_dict_pre_hook(convert_mmdet_ssd_keys)  # mmdetection checkpoints load as-is

    def extract_feats(self, inputs: Tensor) -> list[Tensor]:
        """inputs (N, 3, H, W) -> the head's feature maps, largest first (20, 10, 5, 3, 2, 1 at 320)."""
        return self.feats_from_taps(self.backbone(inputs))

    def feats_from_taps(self, taps: dict[str, Tensor]) -> list[Tensor]:
        """Backbone taps (a dict, may hold more) -> the head's maps: ``in_taps`` in order, then the neck's."""
        feats = [taps[name] for name in self.in_taps]
        return feats + self.neck(feats[-1])

    def forward(
        self, inputs: Tensor, data_samples: list[DataSample] | None = None, mode: str = "tensor"
    ) -> tuple[list[Tensor], list[Tensor]] | dict[str, Tensor] | list[DataSample]:
        if mode not in ("tensor", "loss", "predict"):
            raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got '{mode}'")
        if mode == "tensor":
            return self.forward_taps(self.backbone(inputs), [], mode)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(len(inputs))]
        if mode == "loss":
            set_batch_input_shape(inputs, data_samples)
            return self.forward_taps(self.backbone(inputs), data_samples, mode)
        for group_inputs, group in image_shape_groups(inputs, data_samples, pad_size_divisor(self)):
            set_batch_input_shape(group_inputs, group)
            self.forward_taps(self.backbone(group_inputs), group, mode)
        return data_samples

    def forward_taps(
        self, taps: dict[str, Tensor], data_samples: list[DataSample], mode: str
    ) -> tuple[list[Tensor], list[Tensor]] | dict[str, Tensor] | list[DataSample]:
        """``forward`` from computed backbone taps; the samples already carry ``batch_input_shape``.

        Lets a :class:`MultiTaskModel` run this detector's neck and head on a shared backbone.
        """
        if mode == "loss" and self.training and len(data_samples) < 2:
            raise ValueError(
                f"SSDDetector cannot train on a batch of {len(data_samples)} image: BatchNorm in the extra "
                "layers sees a single value per channel on the 1x1 map. Raise train_dataloader.batch_size "
                "to 2 or more, and set train_dataloader.drop_last=True so no epoch ends on a batch of one"
            )
        feats = self.feats_from_taps(taps)
        if mode == "tensor":
            return self.head(feats)
        if mode == "loss":
            return self.head.loss(feats, data_samples)
        return self.head.predict(feats, data_samples)
