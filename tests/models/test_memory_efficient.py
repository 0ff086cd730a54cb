"""Memory-efficient inverted residuals (paper section 5.1): the sliced path gives the normal outputs."""

from unittest import mock

import pytest
import torch
from torch import Tensor

from tests.bn_statistics import randomise_batchnorm
from visionkit.deploy import fuse_batchnorm
from visionkit.models import MobileNetV2
from visionkit.models.layers import InvertedResidual


def assert_close_to(actual: Tensor, expected: Tensor) -> None:
    scale = expected.abs().max().item()
    assert scale > 1e-3
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-4 * scale)


def count_sliced_calls() -> mock._patch:
    """Patch that records every ``forward_sliced`` call and still runs it."""
    return mock.patch.object(
        InvertedResidual, "forward_sliced", autospec=True, side_effect=InvertedResidual.forward_sliced
    )


@pytest.mark.parametrize(
    "in_channels, out_channels, stride, expand_ratio, dilation",
    [
        (16, 16, 1, 6, 1),  # shortcut
        (16, 24, 2, 6, 1),  # stride 2, no shortcut
        (24, 24, 1, 6, 2),  # dilation 2
        (32, 16, 1, 1, 1),  # t = 1 (no expand conv), no shortcut
        (16, 16, 1, 1, 1),  # t = 1 with shortcut
    ],
)
@pytest.mark.parametrize("splits", [2, 5, 1000])  # even, uneven (96 / 5), one channel a slice
def test_block_sliced_matches_whole(in_channels, out_channels, stride, expand_ratio, dilation, splits):
    block = InvertedResidual(in_channels, out_channels, stride, expand_ratio, dilation)
    block = randomise_batchnorm(block).eval()
    assert block.use_shortcut == (stride == 1 and in_channels == out_channels)
    x = torch.randn(2, in_channels, 11, 11)
    with torch.no_grad():
        expected = block(x)
        block.memory_efficient_splits = splits
        with count_sliced_calls() as sliced:
            actual = block(x)
    assert sliced.call_count == 1
    assert_close_to(actual, expected)


def test_sliced_path_only_in_eval_without_autograd():
    block = InvertedResidual(8, 8, 1, 6, memory_efficient_splits=3)
    x = torch.randn(2, 8, 5, 5)
    with count_sliced_calls() as sliced:
        block.train()(x)
        block.eval()(x).sum().backward()  # autograd would keep every slice: nothing to save
        assert sliced.call_count == 0
        with torch.inference_mode():
            block(x)
        assert sliced.call_count == 1
    with pytest.raises(ValueError, match="memory_efficient_splits"):
        InvertedResidual(8, 8, 1, 6, memory_efficient_splits=-1)


@pytest.mark.parametrize("output_stride", [32, 16, 8])
def test_backbone_sliced_matches_whole(output_stride):
    taps = ("layer4", "layer18", "final")
    backbone = randomise_batchnorm(MobileNetV2(output_stride=output_stride, out_taps=taps)).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = backbone(x)
        backbone.set_memory_efficient_splits(4)
        with count_sliced_calls() as sliced:
            actual = backbone(x)
    assert sliced.call_count == len(backbone.blocks)
    for name in taps:
        assert_close_to(actual[name], expected[name])


def test_expansion_tap_runs_its_block_whole():
    taps = ("layer15_expansion", "layer18")
    backbone = randomise_batchnorm(MobileNetV2(out_taps=taps, memory_efficient_splits=3)).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad(), count_sliced_calls() as sliced:
        actual = backbone(x)
    assert sliced.call_count == len(backbone.blocks) - 1
    backbone.set_memory_efficient_splits(0)
    with torch.no_grad():
        expected = backbone(x)
    for name in taps:
        assert_close_to(actual[name], expected[name])


def test_fused_and_sliced_matches_unfused_whole():
    backbone = randomise_batchnorm(MobileNetV2(output_stride=16, out_taps=("layer18",))).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = backbone(x)["layer18"]
        fuse_batchnorm(backbone)
        backbone.set_memory_efficient_splits(3)
        with count_sliced_calls() as sliced:
            actual = backbone(x)["layer18"]
    assert sliced.call_count == len(backbone.blocks)
    assert backbone.blocks[5].project.conv.bias is not None  # the fused bias path was exercised
    assert_close_to(actual, expected)
