"""torchvision models of the same architectures as visionkit's, assembled from torchvision's own parts.

Randomly initialised (nothing is downloaded); they are speed references for ``tools/benchmark.py``:

- :func:`mobilenet_v2_classifier`: ``torchvision.models.mobilenet_v2``; :func:`torchvision_classifier` the
  classifier of a visionkit backbone config (``mobilenet_v2``, ``mobilenet_v3_large`` / ``_small``).
- :func:`ssdlite_mobilenet_v2`: torchvision's ``SSD`` + ``SSDLiteHead`` + ``DefaultBoxGenerator`` on its
  MobileNetV2 features, tapped as in the paper (section 6.2) and as ``ssdlite320_mobilenet_v3_large`` taps
  MobileNetV3: the layer-15 expansion (576 ch, stride 16) and the final 1280-ch layer, then four extra
  blocks of 512, 256, 256, 128 channels; 6 boxes per location.
- :func:`deeplabv3_mobilenet_v2`: torchvision's ``DeepLabV3`` + ``ASPP`` on its MobileNetV2 features up to
  the 320-ch layer (the paper's MNV2*, section 6.3), dilated to output stride 16.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from functools import partial

from torch import Tensor, nn
from torchvision.models import mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.detection.ssd import SSD
from torchvision.models.detection.ssdlite import SSDLiteHead, _extra_block, _normal_init
from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# torchvision's MobileNetV2 ``features``: [0] stem, [1..17] the 17 inverted residuals (layer2..layer18),
# [18] the 1x1 conv to 1280. features[14] is layer15, the first 160-ch block (stride 16 -> 32).
LAYER15 = 14
LAYER18 = 17


def mobilenet_v2_classifier(width_mult: float = 1.0, num_classes: int = 1000) -> nn.Module:
    """torchvision's MobileNetV2 classifier; input (N, 3, H, W) normalised -> logits (N, num_classes)."""
    return mobilenet_v2(width_mult=width_mult, num_classes=num_classes)


def torchvision_classifier(backbone: dict, num_classes: int = 1000) -> tuple[str, nn.Module]:
    """(name, torchvision classifier) with the architecture of visionkit's backbone config ``backbone``."""
    width = backbone.get("widen_factor", 1.0)
    if backbone["type"] == "MobileNetV2":
        return f"mobilenet_v2 {width:g}", mobilenet_v2_classifier(width, num_classes)
    if backbone["type"] == "MobileNetV3":
        arch = backbone.get("arch", "large")
        builder = {"large": mobilenet_v3_large, "small": mobilenet_v3_small}[arch]
        return f"mobilenet_v3_{arch} {width:g}", builder(width_mult=width, num_classes=num_classes)
    raise ValueError(f"No torchvision classifier for backbone {backbone['type']}")


class MobileNetV2SSDLiteFeatures(nn.Module):
    """torchvision MobileNetV2 features -> six SSDLite maps (20, 10, 5, 3, 2, 1 at 320x320).

    torchvision's ``SSDLiteFeatureExtractorMobileNet`` expects MobileNetV3 blocks (``.block``); this is the
    same split for MobileNetV2's blocks (``.conv``): up to the layer-15 expansion, then the rest.
    """

    def __init__(self, extra_channels: Sequence[int] = (512, 256, 256, 128)) -> None:
        super().__init__()
        features = mobilenet_v2().features
        expand, *rest = features[LAYER15].conv
        self.features = nn.ModuleList(
            [
                nn.Sequential(*features[:LAYER15], expand),
                nn.Sequential(*rest, *features[LAYER15 + 1 :]),
            ]
        )
        norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
        in_channels = [features[-1].out_channels, *extra_channels[:-1]]
        pairs = zip(in_channels, extra_channels, strict=True)
        self.extra = nn.ModuleList(_extra_block(c_in, c_out, norm_layer) for c_in, c_out in pairs)
        _normal_init(self.extra)

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        outputs = []
        for block in [*self.features, *self.extra]:
            x = block(x)
            outputs.append(x)
        return OrderedDict((str(i), v) for i, v in enumerate(outputs))


def ssdlite_mobilenet_v2(
    num_classes: int = 80,
    size: int = 320,
    score_thresh: float = 0.01,
    topk_candidates: int = 1000,
    nms_thresh: float = 0.6,
    detections_per_img: int = 100,
) -> SSD:
    """torchvision SSDLite on MobileNetV2 (``num_classes`` + 1 background), as ssdlite320_mobilenet_v3_large.

    Input: a list of (3, H, W) float images in [0, 1] at any size; the model resizes to ``size`` and
    normalises with ImageNet mean/std (as visionkit's data preprocessor) and returns boxes at the original
    size. Note ``topk_candidates`` is per class in torchvision, over all classes in visionkit's ``nms_pre``.
    """
    backbone = MobileNetV2SSDLiteFeatures()
    anchors = DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95)
    out_channels = [576, 1280, 512, 256, 256, 128]
    norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.03)
    head = SSDLiteHead(out_channels, anchors.num_anchors_per_location(), num_classes + 1, norm_layer)
    return SSD(
        backbone,
        anchors,
        (size, size),
        num_classes + 1,
        image_mean=list(IMAGENET_MEAN),
        image_std=list(IMAGENET_STD),
        head=head,
        score_thresh=score_thresh,
        topk_candidates=topk_candidates,
        nms_thresh=nms_thresh,
        detections_per_img=detections_per_img,
    )


def dilate_mobilenet_v2_last_stages(features: nn.Sequential) -> None:
    """Output stride 32 -> 16 in place: layer15 keeps stride 1, the depthwise convs after it dilate by 2.

    The same rule as TF slim and visionkit's ``MobileNetV2(output_stride=16)``; torchvision's
    ``mobilenet_v3_large(dilated=True)`` does the same for its last stage.
    """
    for index in range(LAYER15, LAYER18 + 1):
        depthwise = features[index].conv[1][0]
        if index == LAYER15:
            depthwise.stride = (1, 1)
        else:
            depthwise.dilation, depthwise.padding = (2, 2), (2, 2)


def deeplabv3_mobilenet_v2(
    num_classes: int = 21, atrous_rates: Sequence[int] = (6, 12, 18), channels: int = 256
) -> DeepLabV3:
    """torchvision DeepLabV3 on dilated MobileNetV2 (output stride 16) up to its 320-ch layer.

    The head is torchvision's ``ASPP`` (1x1 branch, one 3x3 branch per rate, image pooling, 1x1
    projection; ``atrous_rates=()`` leaves only 1x1 + pooling, the paper's mobile head) and a 1x1
    classifier, as Mobile DeepLabv3; torchvision's ``DeepLabHead`` adds a 3x3 conv (0.59 M params) that
    the paper's model does not have. Input (N, 3, H, W) normalised -> ``{"out": (N, K, H, W)}`` logits.
    """
    features = mobilenet_v2().features[: LAYER18 + 1]
    dilate_mobilenet_v2_last_stages(features)
    backbone = IntermediateLayerGetter(features, return_layers={str(LAYER18): "out"})
    aspp = ASPP(features[LAYER18].out_channels, list(atrous_rates), channels)
    classifier = nn.Sequential(aspp, nn.Conv2d(channels, num_classes, 1))
    return DeepLabV3(backbone, classifier)
