"""TF's 'SAME' padding as a layer option (``tf_padding=True``): the arithmetic, and every eager path that runs
a conv (the plain forward, the memory-efficient sliced forward, BatchNorm fusion). Exported graphs:
``tests/deploy/test_tf_padding_export.py``; against TensorFlow: ``tests/models/test_tf_checkpoints.py``.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from visionkit.deploy import fuse_batchnorm
from visionkit.models import MobileNetV2, SSDLiteExtraLayers
from visionkit.models.layers import ConvNormAct
from visionkit.models.layers.conv_norm_act import tf_same_padding

from ..bn_statistics import randomise_batchnorm


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "dilation", "expected"),
    [
        (224, 3, 2, 1, (0, 1)),  # even side: TF pads after only
        (225, 3, 2, 1, (1, 1)),  # odd side: as PyTorch
        (2, 3, 2, 1, (0, 1)),
        (1, 3, 2, 1, (1, 1)),
        (33, 3, 1, 2, (2, 2)),  # stride 1: symmetric, dilation included
        (224, 1, 2, 1, (0, 0)),
        (10, 4, 2, 1, (1, 1)),
        (7, 1, 3, 1, (0, 0)),  # kernel under the stride: TF's max(..., 0)
    ],
)
def test_tf_same_padding_hand_checked(size, kernel, stride, dilation, expected):
    assert tf_same_padding(size, kernel, stride, dilation) == expected


def test_tf_same_padding_is_tfs_formula_everywhere():
    for size in range(1, 40):
        for kernel in (1, 2, 3, 5):
            for stride in (1, 2, 3):
                for dilation in (1, 2):
                    effective = dilation * (kernel - 1) + 1
                    total = max((math.ceil(size / stride) - 1) * stride + effective - size, 0)
                    before, after = tf_same_padding(size, kernel, stride, dilation)
                    assert (before, after) == (total // 2, total - total // 2)
                    assert (size + total - effective) // stride + 1 == math.ceil(size / stride)


def test_a_stride_2_conv_on_an_even_side_pads_after_only():
    torch.manual_seed(0)
    layer = randomise_batchnorm(ConvNormAct(4, 6, 3, stride=2, tf_padding=True)).eval()
    symmetric = ConvNormAct(4, 6, 3, stride=2).eval()
    symmetric.load_state_dict(layer.state_dict())
    x = torch.randn(2, 4, 10, 9)  # even height, odd width
    with torch.no_grad():
        got = layer(x)
        expected = layer.act(layer.bn(F.conv2d(F.pad(x, (1, 1, 0, 1)), layer.conv.weight, stride=2)))
        torch.testing.assert_close(got, expected)
        assert got.shape[-2:] == (5, 5)
        assert (got - symmetric(x)).abs().max() > 0.1  # PyTorch's padding samples other pixels


def _backbone(**options: object) -> MobileNetV2:
    torch.manual_seed(0)
    model = MobileNetV2(widen_factor=0.35, out_taps=("layer15_expansion", "final"), **options)
    return randomise_batchnorm(model).eval()


def test_memory_efficient_and_fused_backbones_pad_as_tf():
    x = torch.randn(2, 3, 64, 62)
    tf_model, sliced = _backbone(tf_padding=True), _backbone(tf_padding=True, memory_efficient_splits=3)
    torch_model = _backbone()
    with torch.no_grad():
        expected = tf_model(x)
        assert (expected["final"] - torch_model(x)["final"]).abs().max() > 0.01  # symmetric differs
        for name, out in sliced(x).items():
            torch.testing.assert_close(out, expected[name], rtol=1e-4, atol=1e-4)
        fused = fuse_batchnorm(_backbone(tf_padding=True, memory_efficient_splits=3))
        for name, out in fused(x).items():
            torch.testing.assert_close(out, expected[name], rtol=1e-4, atol=1e-4)


def test_ssdlite_extra_layers_pad_as_tf_on_even_maps():
    torch.manual_seed(0)
    layers = randomise_batchnorm(SSDLiteExtraLayers(64, (32, 16, 16, 8), tf_padding=True)).eval()
    symmetric = SSDLiteExtraLayers(64, (32, 16, 16, 8)).eval()
    symmetric.load_state_dict(layers.state_dict())
    x = torch.randn(1, 64, 10, 10)
    with torch.no_grad():
        got, other = layers(x), symmetric(x)
    assert [tuple(o.shape[-2:]) for o in got] == [(5, 5), (3, 3), (2, 2), (1, 1)]
    depthwise = layers.blocks[0][1]
    with torch.no_grad():
        first = layers.blocks[0][0](x)
        padded = F.conv2d(F.pad(first, (0, 1, 0, 1)), depthwise.conv.weight, stride=2, groups=first.shape[1])
    torch.testing.assert_close(depthwise(first), depthwise.act(depthwise.bn(padded)))
    assert (got[0] - other[0]).abs().max() > 0.1
