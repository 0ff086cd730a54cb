"""SSD multibox loss: softmax cross-entropy with hard negative mining plus smooth-L1 on positive deltas.

With ``use_sigmoid`` the class term is TF's ``weighted_sigmoid`` (``ssdlite_mobilenet_v2_coco``, whose scores
are sigmoids): per anchor the sum over all K + 1 columns, background included, of the binary cross-entropy
against the one-hot label; hard negatives are mined on that sum.

SSD (Liu et al. 2016, section 2.2 "Training objective" and "Hard negative mining"), as in the TF object
detection ``ssdlite_mobilenet_v2_coco`` config and torchvision's and mmdet's SSD: per image, all positive
anchors plus the ``neg_pos_ratio`` x as many background anchors with the highest classification loss;
both terms summed over the batch and divided by the batch's number of positives (at least 1).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ...registry import MODELS


def hard_negative_mask(
    cls_loss: Tensor, positive: Tensor, negative: Tensor, neg_pos_ratio: int = 3, min_negatives: int = 0
) -> Tensor:
    """Select per image the ``max(neg_pos_ratio * num_pos, min_negatives)`` hardest negatives.

    Args:
        cls_loss: (B, A) per-anchor classification loss (only its order matters).
        positive, negative: (B, A) bool masks (ignored anchors are in neither).

    Returns:
        (B, A) bool: the selected negatives; all negatives when an image has fewer than asked for.
    """
    num_neg = (positive.sum(dim=1, keepdim=True) * neg_pos_ratio).clamp(min=min_negatives)
    neg_loss = cls_loss.detach().masked_fill(~negative, -float("inf"))
    order = neg_loss.argsort(dim=1, descending=True)
    rank = order.argsort(dim=1)
    return negative & (rank < num_neg)


def ssd_loss(
    cls_logits: Tensor,
    box_deltas: Tensor,
    labels: Tensor,
    box_targets: Tensor,
    neg_pos_ratio: int = 3,
    min_negatives: int = 0,
    smooth_l1_beta: float = 1.0,
    use_sigmoid: bool = False,
) -> tuple[Tensor, Tensor]:
    """Classification and box losses of a batch.

    Args:
        cls_logits: (B, A, K + 1) scores; index K is background.
        box_deltas: (B, A, 4) predicted encoded deltas.
        labels: (B, A) int64: 0..K-1 positive class, K background, -1 ignored.
        box_targets: (B, A, 4) encoded deltas of the matched ground truth (read at positives only).
        neg_pos_ratio: negatives kept per positive (3 in SSD).
        min_negatives: negatives kept per image at least, so an image without ground truth still
            trains its background (TF's ``min_negatives_per_image``; torchvision and mmdet use 0).
        use_sigmoid: sigmoid cross-entropy summed over the K + 1 columns instead of softmax (TF's).

    Returns:
        (loss_cls, loss_bbox), each a scalar divided by max(1, number of positives in the batch).
    """
    background = cls_logits.shape[-1] - 1
    positive = (labels >= 0) & (labels < background)
    negative = labels == background
    if use_sigmoid:
        target = F.one_hot(labels.clamp(min=0), cls_logits.shape[-1]).to(cls_logits.dtype)
        cls_loss = F.binary_cross_entropy_with_logits(cls_logits, target, reduction="none").sum(dim=-1)
    else:
        cls_loss = F.cross_entropy(
            cls_logits.flatten(0, 1), labels.clamp(min=0).flatten(), reduction="none"
        ).view_as(labels)
    selected = positive | hard_negative_mask(cls_loss, positive, negative, neg_pos_ratio, min_negatives)
    normaliser = positive.sum().clamp(min=1)
    loss_cls = (cls_loss * selected).sum() / normaliser
    loss_bbox = (
        F.smooth_l1_loss(box_deltas[positive], box_targets[positive], beta=smooth_l1_beta, reduction="sum")
        / normaliser
    )
    return loss_cls, loss_bbox


@MODELS.register_module()
class SSDLoss(nn.Module):
    """Module form of :func:`ssd_loss` with loss weights.

    Args:
        neg_pos_ratio: hard negatives per positive.
        min_negatives: hard negatives per image at least (3 in TF's SSD configs); 0 gives torchvision's and
            mmdet's behaviour, where an image without ground truth contributes no loss at all.
        smooth_l1_beta: transition point of the smooth-L1 box loss.
        loss_cls_weight, loss_bbox_weight: factors on the two terms (1:1 in SSD).
        use_sigmoid: TF's sigmoid class loss (see the module docstring), for a head with sigmoid scores.
    """

    def __init__(
        self,
        neg_pos_ratio: int = 3,
        min_negatives: int = 3,
        smooth_l1_beta: float = 1.0,
        loss_cls_weight: float = 1.0,
        loss_bbox_weight: float = 1.0,
        use_sigmoid: bool = False,
    ) -> None:
        super().__init__()
        self.use_sigmoid = use_sigmoid
        self.neg_pos_ratio, self.min_negatives, self.smooth_l1_beta = (
            neg_pos_ratio,
            min_negatives,
            smooth_l1_beta,
        )
        self.loss_cls_weight, self.loss_bbox_weight = loss_cls_weight, loss_bbox_weight

    def forward(
        self, cls_logits: Tensor, box_deltas: Tensor, labels: Tensor, box_targets: Tensor
    ) -> dict[str, Tensor]:
        """Shapes as :func:`ssd_loss`; returns ``dict(loss_cls=..., loss_bbox=...)``."""
        loss_cls, loss_bbox = ssd_loss(
            cls_logits,
            box_deltas,
            labels,
            box_targets,
            self.neg_pos_ratio,
            self.min_negatives,
            self.smooth_l1_beta,
            self.use_sigmoid,
        )
        return {"loss_cls": loss_cls * self.loss_cls_weight, "loss_bbox": loss_bbox * self.loss_bbox_weight}
