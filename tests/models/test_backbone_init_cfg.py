"""Backbones honour any mmengine init_cfg (mmdetection's TruncNormal, torchvision's N(0, 0.03)), not only
Pretrained, and a Pretrained entry in a list still loads last."""

import pytest
import torch
import torchvision
from mmengine.registry import init_default_scope
from torch import nn

from visionkit.models.backbones import MobileNetV2, MobileNetV3


def conv_weights(model: nn.Module) -> torch.Tensor:
    return torch.cat([m.weight.detach().flatten() for m in model.modules() if isinstance(m, nn.Conv2d)])


def test_trunc_normal_as_mmdetection_configures_it() -> None:
    """mmdet's SSDLite backbone: TruncNormal(layer='Conv2d', std=0.03), so every conv weight has std 0.03
    (torchvision's fan-out Kaiming would give the 3x3 stem std 0.2) and BatchNorm stays weight 1, bias 0."""
    init_default_scope("visionkit")
    model = MobileNetV2(
        widen_factor=0.35, init_cfg=dict(type="TruncNormal", layer="Conv2d", std=0.03, a=-0.06, b=0.06)
    )
    model.init_weights()
    weights = conv_weights(model)
    assert weights.std().item() == pytest.approx(0.88 * 0.03, rel=0.05)  # a normal cut at 2 std: 0.88 std
    assert weights.abs().max().item() <= 0.06
    assert model.stem.conv.weight.std().item() < 0.05
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(bool((bn.weight == 1).all()) and bool((bn.bias == 0).all()) for bn in bns)


def test_normal_init_of_torchvisions_ssdlite_on_mobilenet_v3() -> None:
    init_default_scope("visionkit")
    model = MobileNetV3(
        arch="large", reduced_tail=True, init_cfg=dict(type="Normal", layer="Conv2d", std=0.03)
    )
    model.init_weights()
    assert conv_weights(model).std().item() == pytest.approx(0.03, rel=0.05)


def test_default_init_is_torchvisions_without_init_cfg() -> None:
    model = MobileNetV2(widen_factor=0.35)
    model.init_weights()
    fan_out = model.stem.conv.weight.shape[0] * 9
    assert model.stem.conv.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.15)


def test_pretrained_in_a_list_loads_after_the_initialisers(tmp_path) -> None:
    """[TruncNormal, Pretrained]: the checkpoint's weights win (mmengine applies Pretrained last)."""
    init_default_scope("visionkit")
    reference = torchvision.models.mobilenet_v2(width_mult=0.35)
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(reference.state_dict(), path)
    model = MobileNetV2(
        widen_factor=0.35,
        init_cfg=[
            dict(type="TruncNormal", layer="Conv2d", std=0.03),
            dict(type="Pretrained", checkpoint=str(path)),
        ],
    )
    model.init_weights()
    torch.testing.assert_close(model.stem.conv.weight, reference.features[0][0].weight)
