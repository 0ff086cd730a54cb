"""Image classification head: global average pool -> [linear -> act] -> dropout -> linear.

Without the hidden layer it is torchvision MobileNetV2's classifier; with ``hidden_channels=1280`` and
hard-swish, MobileNetV3-Large's (1024 for Small; paper section 5.4, the efficient last stage).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from ...registry import MODELS
from ...structures import DataSample
from ..backbones.taps import check_head_taps
from ..converters.torchvision_classifier import convert_torchvision_classifier_head_keys
from ..layers import build_activation


def scores_to_samples(scores: Tensor, data_samples: Sequence[DataSample]) -> Sequence[DataSample]:
    """scores (N, K) probabilities -> each sample's ``pred_score`` (K,) and ``pred_label`` (int)."""
    for sample, score in zip(data_samples, scores, strict=True):
        sample.pred_score, sample.pred_label = score, int(score.argmax())
    return data_samples


@MODELS.register_module()
class ClassifierHead(BaseModule):
    """Logits from one backbone tap.

    Args:
        in_channels: channels of its tap, one-element (1280 for MobileNetV2 1.0 ``final``).
        num_classes: number of classes.
        in_taps: the backbone tap this head reads, one-element (default ``final``).
        dropout: dropout before the linear layer (0.2 in torchvision and slim).
        hidden_channels: width of a linear layer (with bias) between pooling and dropout, ``None`` for
            none (torchvision MobileNetV3: 1280 Large, 1024 Small).
        hidden_act: activation after the hidden layer (hard-swish in MobileNetV3).
        label_smoothing: cross-entropy label smoothing (0 = plain cross-entropy).
        loss_weight: factor on the loss.
    """

    default_in_taps = ("final",)

    def __init__(
        self,
        in_channels: Sequence[int],
        num_classes: int,
        in_taps: Sequence[str] | None = None,
        dropout: float = 0.2,
        hidden_channels: int | None = None,
        hidden_act: str = "hardswish",
        label_smoothing: float = 0.0,
        loss_weight: float = 1.0,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_taps = check_head_taps("ClassifierHead", in_taps or self.default_in_taps, in_channels, 1)
        (in_channels,) = in_channels
        self.num_classes = num_classes
        self.label_smoothing, self.loss_weight = label_smoothing, loss_weight
        self.hidden: nn.Linear | None = None
        if hidden_channels is not None:
            self.hidden = nn.Linear(in_channels, hidden_channels)
            self.hidden_act = build_activation(hidden_act)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels if hidden_channels is None else hidden_channels, num_classes)
        hook = partial(convert_torchvision_classifier_head_keys, hidden=self.hidden is not None)
        self._register_load_state_dict_pre_hook(hook)

    def init_weights(self) -> None:
        if self.init_cfg is None:  # torchvision's init for the classifier
            for linear in (self.hidden, self.fc):
                if linear is not None:
                    nn.init.normal_(linear.weight, 0, 0.01)
                    nn.init.zeros_(linear.bias)
        else:
            super().init_weights()

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        """feats[in_taps[0]]: (N, C, H, W) -> logits (N, num_classes)."""
        x = F.adaptive_avg_pool2d(feats[self.in_taps[0]], 1).flatten(1)
        if self.hidden is not None:
            x = self.hidden_act(self.hidden(x))
        return self.fc(self.dropout(x))

    def loss(self, feats: dict[str, Tensor], data_samples: list[DataSample]) -> dict[str, Tensor]:
        """Cross-entropy against each sample's ``gt_label`` (int class index)."""
        logits = self(feats)
        target = torch.as_tensor([int(s.gt_label) for s in data_samples], device=logits.device)
        loss = F.cross_entropy(logits, target, label_smoothing=self.label_smoothing)
        return {"loss_cls": loss * self.loss_weight}

    def predict(self, feats: dict[str, Tensor], data_samples: Sequence[DataSample]) -> Sequence[DataSample]:
        """Adds ``pred_score`` (num_classes,) softmax and ``pred_label`` (int) to each sample."""
        return scores_to_samples(self(feats).softmax(dim=1), data_samples)
