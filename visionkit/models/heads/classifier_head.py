"""Image classification head: global average pool -> dropout -> linear (torchvision MobileNetV2's)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from ...registry import MODELS
from ...structures import DataSample


def scores_to_samples(scores: Tensor, data_samples: Sequence[DataSample]) -> Sequence[DataSample]:
    """scores (N, K) probabilities -> each sample's ``pred_score`` (K,) and ``pred_label`` (int)."""
    for sample, score in zip(data_samples, scores, strict=True):
        sample.pred_score, sample.pred_label = score, int(score.argmax())
    return data_samples


@MODELS.register_module()
class ClassifierHead(BaseModule):
    """Logits from one backbone tap.

    Args:
        in_channels: channels of the tap ``in_tap`` (1280 for MobileNetV2 1.0 ``final``).
        num_classes: number of classes.
        in_tap: name of the backbone feature this head reads.
        dropout: dropout before the linear layer (0.2 in torchvision and slim).
        label_smoothing: cross-entropy label smoothing (0 = plain cross-entropy).
        loss_weight: factor on the loss.
    """

    def __init__(
        self,
        in_channels: int,
        num_classes: int,
        in_tap: str = "final",
        dropout: float = 0.2,
        label_smoothing: float = 0.0,
        loss_weight: float = 1.0,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_tap, self.num_classes = in_tap, num_classes
        self.label_smoothing, self.loss_weight = label_smoothing, loss_weight
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        if self.init_cfg is None:  # torchvision's init for the classifier
            nn.init.normal_(self.fc.weight, 0, 0.01)
            nn.init.zeros_(self.fc.bias)
        else:
            super().init_weights()

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        """feats[in_tap]: (N, C, H, W) -> logits (N, num_classes)."""
        x = F.adaptive_avg_pool2d(feats[self.in_tap], 1).flatten(1)
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
