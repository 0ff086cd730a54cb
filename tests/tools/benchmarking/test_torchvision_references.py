"""The torchvision twins have visionkit's architectures: same parameter counts, same feature map sizes."""

import pytest
import torch
from benchmarking.torchvision_references import (
    deeplabv3_mobilenet_v2,
    mobilenet_v2_classifier,
    ssdlite_mobilenet_v2,
    torchvision_classifier,
)
from mmengine.registry import init_default_scope

from visionkit.engine import load_config
from visionkit.registry import MODELS


def count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def visionkit_params(config: str, **options) -> int:
    init_default_scope("visionkit")
    return count(MODELS.build(load_config(f"configs/{config}", options).model))


def test_classifier_is_torchvision_mobilenet_v2():
    assert count(mobilenet_v2_classifier()) == 3_504_872 == visionkit_params("mobilenet_v2_imagenet.py")


@pytest.mark.parametrize("arch", ["large", "small"])
def test_classifier_twin_of_a_mobilenet_v3_config(arch):
    config = f"mobilenet_v3_{arch}_imagenet.py"
    name, twin = torchvision_classifier(load_config(f"configs/{config}").model.backbone)
    assert name == f"mobilenet_v3_{arch} 1" and count(twin) == visionkit_params(config)


def test_ssdlite_params_match_visionkit_with_six_boxes_everywhere():
    # The figure: 4.48 M for SSDLite on MobileNetV2 with 80 classes and 6 boxes per location.
    params = count(ssdlite_mobilenet_v2(num_classes=80))
    assert params == 4_484_148
    options = {"model.anchor_generator.reduce_boxes_in_lowest_layer": False}
    assert params == visionkit_params("ssdlite_mnv2_coco.py", **options)


@torch.inference_mode()
def test_ssdlite_feature_maps_at_320():
    model = ssdlite_mobilenet_v2(num_classes=80).eval()
    maps = list(model.backbone(torch.zeros(1, 3, 320, 320)).values())
    assert [tuple(m.shape[1:]) for m in maps] == [
        (576, 20, 20),
        (1280, 10, 10),
        (512, 5, 5),
        (256, 3, 3),
        (256, 2, 2),
        (128, 1, 1),
    ]
    assert model.anchor_generator.num_anchors_per_location() == [6] * 6


@pytest.mark.parametrize(
    ("rates", "params", "config"),
    [((6, 12, 18), 4_523_541, "deeplabv3_mnv2_voc.py"), ((), 2_113_557, "deeplabv3lite_mnv2_voc.py")],
)
def test_deeplabv3_params_match_visionkit(rates, params, config):
    # Paper Table 7: 4.52 M with ASPP, 2.11 M without the atrous branches (no 1280-ch conv in either).
    assert count(deeplabv3_mobilenet_v2(21, rates)) == params == visionkit_params(config)


@torch.inference_mode()
def test_deeplabv3_output_stride_16_and_logits_at_input_size():
    model = deeplabv3_mobilenet_v2(21).eval()
    x = torch.zeros(1, 3, 64, 96)
    assert model.backbone(x)["out"].shape == (1, 320, 4, 6)
    assert model(x)["out"].shape == (1, 21, 64, 96)
