"""fuse_batchnorm: every repo model keeps its outputs with no BatchNorm left; init_model(deploy=True)."""

import logging
from pathlib import Path

import pytest
import torch
from torch import Tensor, nn

from visionkit.apis import init_model
from visionkit.deploy import fuse_batchnorm
from visionkit.models.layers import ConvNormAct

from ..bn_statistics import assert_depends_on_input, calibrate_batchnorm, randomise_batchnorm

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def flatten(outputs: Tensor | tuple | list) -> list[Tensor]:
    """A model's tensor output(s) as one list (SSDLite gives per-level lists of scores and deltas)."""
    if isinstance(outputs, Tensor):
        return [outputs]
    return [tensor for item in outputs for tensor in flatten(item)]


def count(model: nn.Module, kind: type[nn.Module]) -> int:
    return sum(isinstance(module, kind) for module in model.modules())


def num_params(model: nn.Module) -> int:
    return sum(param.numel() for param in model.parameters())


def assert_same_outputs(expected: list[Tensor], actual: list[Tensor]) -> None:
    """Same outputs, of a batch of two different images that give clearly different outputs."""
    assert len(expected) == len(actual)
    for want, got in zip(expected, actual, strict=True):
        assert_depends_on_input(want[0], want[1])
        # float32 rounding through ~20 fused layers: up to ~4e-4 of the output's range measured
        torch.testing.assert_close(got, want, rtol=0, atol=2e-3 * want.abs().max().item())


@pytest.mark.parametrize(
    "config, size, num_bn",
    [
        # num_bn: 2 per block (3 with an expand conv) + stem + final conv, + the heads' BatchNorms.
        ("mobilenet_v2_toy.py", 64, 52),
        ("ssdlite_mnv2_toy.py", 128, 52 + 4 * 3 + 7 * 2),  # 7 levels: a stride-8 one first
        ("deeplabv3_mnv2_voc.py", 96, 51 + 5 + 1),  # ASPP (6, 12, 18): 1x1, 3 atrous, pooling, project
        ("deeplabv3lite_mnv2_toy.py", 96, 51 + 2 + 1),  # no atrous branches
    ],
)
def test_fused_model_matches_unfused(config, size, num_bn):
    torch.manual_seed(0)  # the conv weights: the result must not depend on which tests ran before
    model = calibrate_batchnorm(randomise_batchnorm(init_model(str(CONFIGS / config))), (size, size))
    inputs = torch.randn(2, 3, size, size)
    with torch.no_grad():
        expected = flatten(model(inputs, mode="tensor"))
    assert count(model, nn.BatchNorm2d) == num_bn
    params_before = num_params(model)
    bn_channels = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))

    fused = fuse_batchnorm(model)

    assert fused is model
    assert count(fused, nn.BatchNorm2d) == 0
    # Each pair trades the BatchNorm's weight and bias (2 C) for a conv bias (C).
    assert params_before - num_params(fused) == bn_channels
    with torch.no_grad():
        assert_same_outputs(expected, flatten(fused(inputs, mode="tensor")))


def test_training_model_is_refused():
    layer = ConvNormAct(4, 8, 3)
    with pytest.raises(RuntimeError, match=r"eval mode.*model\.eval\(\)"):
        fuse_batchnorm(layer)
    assert isinstance(layer.bn, nn.BatchNorm2d)


class ConvBesideNorm(nn.Module):
    """Registers a conv then a BatchNorm but applies the BatchNorm to the input, not to the conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)
        self.bn = nn.BatchNorm2d(4)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv(x) + self.bn(x)


def test_pairs_in_unknown_order_are_left_alone(monkeypatch):
    logged = []
    monkeypatch.setattr(
        "visionkit.deploy.fuse_bn.print_log",
        lambda msg, logger=None, level=logging.INFO: logged.append((msg, level)),
    )
    model = randomise_batchnorm(nn.Sequential(ConvBesideNorm(), nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4))).eval()
    inputs = torch.randn(1, 4, 5, 5)
    with torch.no_grad():
        expected = model(inputs)
        fuse_batchnorm(model)
        torch.testing.assert_close(model(inputs), expected)
    assert isinstance(model[0].bn, nn.BatchNorm2d)  # kept: its conv does not feed it
    warnings = [message for message, level in logged if level == logging.WARNING]
    assert len(warnings) == 1 and "1 BatchNorm2d not after a conv in a known order, kept: 0.bn" in warnings[0]
    assert isinstance(model[2], nn.Identity) and model[1].bias is not None


def test_init_model_deploy_fuses_the_loaded_checkpoint(tmp_path):
    config = str(CONFIGS / "deeplabv3lite_mnv2_toy.py")
    trained = calibrate_batchnorm(randomise_batchnorm(init_model(config), seed=1), (64, 64))
    checkpoint = tmp_path / "model.pth"
    torch.save({"state_dict": trained.state_dict()}, checkpoint)
    inputs = torch.randn(2, 3, 64, 64)

    deployed = init_model(config, str(checkpoint), deploy=True)

    assert not deployed.training and count(deployed, nn.BatchNorm2d) == 0
    with torch.no_grad():
        assert_same_outputs([trained(inputs)], [deployed(inputs)])


def test_only_a_conv_directly_followed_by_batchnorm_is_fused(monkeypatch):
    logged = []
    monkeypatch.setattr(
        "visionkit.deploy.fuse_bn.print_log",
        lambda msg, logger=None, level=logging.INFO: logged.append((msg, level)),
    )
    model = nn.Sequential(
        nn.Conv2d(3, 4, 1), nn.ReLU(), nn.BatchNorm2d(4), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4)
    )
    model = randomise_batchnorm(model).eval()
    inputs = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        expected = model(inputs)
        fuse_batchnorm(model)
        torch.testing.assert_close(model(inputs), expected)
    assert isinstance(model[2], nn.BatchNorm2d) and isinstance(model[4], nn.Identity)
    assert logged[0] == ("fuse_batchnorm: folded 1 BatchNorm2d into their convs", logging.INFO)


def test_training_error_names_the_first_five_modules():
    model = nn.Sequential(*[ConvNormAct(4, 4, 1) for _ in range(3)])  # 1 + 3 x 4 modules training
    with pytest.raises(
        RuntimeError, match=r"but 13 modules are training \(Sequential, 0, 0\.conv, 0\.bn, 0\.act, \.\.\.\)"
    ):
        fuse_batchnorm(model)


def test_fusing_twice_changes_nothing_and_five_training_modules_are_all_named():
    model = randomise_batchnorm(nn.Sequential(ConvNormAct(3, 4, 3), ConvNormAct(4, 4, 1))).eval()
    inputs = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        expected = model(inputs)
        fuse_batchnorm(fuse_batchnorm(model))  # the second pass meets ConvNormAct with an Identity norm
        torch.testing.assert_close(model(inputs), expected)
    with pytest.raises(
        RuntimeError, match=r"but 5 modules are training \(Sequential, 0, 0\.conv, 0\.bn, 0\.act\)"
    ):
        fuse_batchnorm(nn.Sequential(ConvNormAct(4, 4, 1)))
