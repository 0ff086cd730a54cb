"""DeepLabv3 head: Atrous Spatial Pyramid Pooling + 1x1 classifier (Chen et al. 2017, arXiv 1706.05587).

As used by MobileNetV2 (paper section 6.3, Table 7) on the 320-channel ``layer18`` (MNV2*)::

    feature (N, C, h, w) -+-> 1x1 conv                      -> 256 -+
                          +-> 3x3 conv, dilation r (each r) -> 256 -+-> concat -> 1x1 conv 256
                          +-> image pooling: GAP -> 1x1 conv -> 256 -+   -> dropout -> 1x1 conv K
                              -> upsample to (h, w)

Every conv but the classifier is followed by BatchNorm and ReLU. ``dilations=()`` drops the atrous
branches: the paper's recommended mobile model (1x1 + image pooling, 75.32 mIoU at 2.11M parameters).
The dropout (0.1) after the projection is TF DeepLab's; torchvision's DeepLabv3 uses 0.5.

torchvision's ``DeepLabHead`` (``deeplabv3_mobilenet_v3_large``: rates (12, 24, 36), dropout 0.5) adds a
3x3 conv-BN-ReLU between the projection and the classifier: ``post_project_conv=True``.

TF DeepLab's checkpoints (``mobilenetv2_coco_voc_trainaug``) concatenate the image pooling first
(``image_pool_first=True``) and resize every map with ``align_corners=True``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...registry import MODELS
from ..layers import ConvNormAct
from .seg_head import IGNORE_INDEX, SegHead


class ImagePooling(nn.Module):
    """Global average pool -> 1x1 conv -> BN -> ReLU -> bilinear upsample back to the input's (h, w).

    Its BatchNorm sees one value per channel and image, so training needs at least 2 images a batch
    (torchvision's ``ASPPPooling`` has the same limit); ``forward`` says so instead of BatchNorm's
    "Expected more than 1 value per channel".
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = ConvNormAct(in_channels, out_channels, act="relu")

    def forward(self, x: Tensor) -> Tensor:
        if self.training and x.shape[0] < 2:
            raise ValueError(
                "ASPP image pooling needs a batch of at least 2 images in training (its BatchNorm "
                "normalises one pooled value per image); raise the batch size, set drop_last=True in "
                "the train dataloader, or put the head in eval mode"
            )
        pooled = self.conv(F.adaptive_avg_pool2d(x, 1))
        return F.interpolate(pooled, size=x.shape[-2:], mode="bilinear", align_corners=False)


@MODELS.register_module()
class ASPPHead(SegHead):
    """DeepLabv3 ASPP head; ``forward(feats)`` -> logits (N, K, h, w) at the tap's resolution.

    Args:
        in_channels: channels of its tap, one-element (320 for MobileNetV2 ``layer18``, 1280 for ``final``).
        num_classes: K (21 for VOC).
        in_taps: the backbone tap the head reads, one-element (default ``layer18``, the paper's MNV2*).
        channels: width of every branch and of the projection (256).
        dilations: rates of the 3x3 atrous branches; (6, 12, 18) at output stride 16, doubled at 8;
            ``()`` for none.
        image_pool: whether to add the image-pooling branch.
        dropout: dropout probability after the projection.
        post_project_conv: a 3x3 conv-BN-ReLU (``channels``) after the projection and its dropout, before
            the classifier, as torchvision's ``DeepLabHead``.
        image_pool_first: concatenate the image-pooling branch first (TF DeepLab's order), not last.
        ignore_index, class_weight, loss_weight, align_corners: see :class:`SegHead`.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        num_classes: int,
        in_taps: Sequence[str] | None = None,
        channels: int = 256,
        dilations: Sequence[int] = (6, 12, 18),
        image_pool: bool = True,
        dropout: float = 0.1,
        post_project_conv: bool = False,
        ignore_index: int = IGNORE_INDEX,
        class_weight: Sequence[float] | None = None,
        loss_weight: float = 1.0,
        init_cfg: dict | None = None,
        image_pool_first: bool = False,
        align_corners: bool = False,
    ) -> None:
        super().__init__(
            num_classes,
            in_taps,
            in_channels,
            ignore_index,
            class_weight,
            loss_weight,
            init_cfg,
            align_corners,
        )
        (in_channels,) = in_channels
        self.dilations = tuple(dilations)
        branches = [ConvNormAct(in_channels, channels, act="relu")]
        branches += [
            ConvNormAct(in_channels, channels, 3, dilation=rate, act="relu") for rate in self.dilations
        ]
        if image_pool:
            pool = ImagePooling(in_channels, channels)
            branches = [pool, *branches] if image_pool_first else [*branches, pool]
        self.branches = nn.ModuleList(branches)
        self.project = ConvNormAct(len(branches) * channels, channels, act="relu")
        self.dropout = nn.Dropout(dropout)
        self.post_project = (
            ConvNormAct(channels, channels, 3, act="relu") if post_project_conv else nn.Identity()
        )
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        """feats[in_taps[0]]: (N, C, h, w) -> logits (N, num_classes, h, w)."""
        x = feats[self.in_taps[0]]
        x = torch.cat([branch(x) for branch in self.branches], dim=1)
        return self.classifier(self.post_project(self.dropout(self.project(x))))
