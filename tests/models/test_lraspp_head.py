"""LR-ASPP and torchvision's DeepLabHead / FCNHead as visionkit heads give torchvision's outputs."""

import pytest
import torch
from torch import nn
from torchvision.models.segmentation.deeplabv3 import DeepLabHead
from torchvision.models.segmentation.fcn import FCNHead as TorchvisionFCNHead
from torchvision.models.segmentation.lraspp import LRASPPHead as TorchvisionLRASPPHead

from tests.bn_statistics import assert_depends_on_input, randomise_batchnorm
from visionkit.models import ASPPHead, FCNHead, LRASPPHead, Segmentor
from visionkit.models.converters.torchvision_segmentation import convert_torchvision_segmentation_keys
from visionkit.structures import DataSample


def _random(module: nn.Module, seed: int = 0) -> nn.Module:
    """``module`` in eval mode with every conv weight and BatchNorm statistic / affine drawn at random."""
    torch.manual_seed(seed)
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.kaiming_normal_(layer.weight)
            if layer.bias is not None:
                nn.init.normal_(layer.bias, 0, 0.1)
    return randomise_batchnorm(module, seed).eval()


def _converted(reference: nn.Module, torchvision_prefix: str, visionkit_prefix: str) -> dict:
    """``reference``'s state dict as keys of a torchvision segmentation model, renamed by the Segmentor's
    pre-hook, with ``visionkit_prefix`` stripped."""
    state = {torchvision_prefix + k: v for k, v in reference.state_dict().items()}
    convert_torchvision_segmentation_keys(state, "")
    assert all(k.startswith(visionkit_prefix) for k in state), sorted(state)
    return {k[len(visionkit_prefix) :]: v for k, v in state.items()}


def _low_high(n: int = 2, seed: int = 1) -> dict[str, torch.Tensor]:
    # low at output stride 8, high at 16 of an odd-sized input: the upsampling is not an exact factor 2.
    generator = torch.Generator().manual_seed(seed)
    return {
        "low": torch.randn(n, 40, 25, 19, generator=generator),
        "final": torch.randn(n, 960, 13, 10, generator=generator).relu(),
    }


def test_lraspp_head_equals_torchvision() -> None:
    reference = _random(TorchvisionLRASPPHead(40, 960, 21, 128))
    head = LRASPPHead((40, 960), 21).eval()
    head.load_state_dict(_converted(reference, "classifier.", "decode_head."))
    feats = _low_high()
    with torch.no_grad():
        expected = reference({"low": feats["low"], "high": feats["final"]})
        actual = head(feats)
        # the high branch matters: its part of the logits changes with the high features alone
        changed = head({"low": feats["low"], "final": feats["final"].roll(1, dims=0)})
    assert actual.shape == (2, 21, 25, 19)
    assert_depends_on_input(actual[0], actual[1])
    assert_depends_on_input(actual, changed, min_change=0.01)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5 * expected.abs().max().item())


def test_lraspp_head_reads_its_taps_in_order() -> None:
    head = LRASPPHead((40, 960), 21, in_taps=("a", "b"))
    assert head.in_taps == ("a", "b")
    with pytest.raises(ValueError, match="LRASPPHead reads 2 taps"):
        LRASPPHead((40,), 21, in_taps=("a",))
    with pytest.raises(TypeError, match=r"sequences, one per tap \(in_taps=\('final',\)\)"):
        LRASPPHead((40, 960), 21, in_taps="ab")


def test_lraspp_head_loss_and_predict() -> None:
    head = LRASPPHead((40, 960), 3)
    feats = {"low": torch.randn(2, 40, 8, 8), "final": torch.randn(2, 960, 4, 4)}
    gt = torch.randint(0, 3, (64, 64))
    samples = [DataSample(metainfo={"batch_input_shape": (64, 64)}, gt_seg_map=gt.clone()) for _ in range(2)]
    loss = head.loss(feats, samples)["loss_ce"]
    loss.backward()
    assert loss.item() > 0 and head.scale[1].weight.grad.abs().sum() > 0
    head.eval()
    assert head.predict(feats, samples)[0].pred_seg_map.shape == (64, 64)


def test_deeplab_head_with_post_project_conv_equals_torchvision() -> None:
    # Rates up to 36 need a feature map wider than 2 x 36 for every atrous tap to see data: a wrong rate
    # then changes the logits. 96 input channels keep it cheap; the head does not depend on them.
    reference = _random(DeepLabHead(96, 21))
    head = ASPPHead(
        (96,), 21, in_taps=("final",), dilations=(12, 24, 36), dropout=0.5, post_project_conv=True
    )
    head.load_state_dict(_converted(reference, "classifier.", "decode_head."))
    head.eval()
    x = torch.randn(2, 96, 41, 75, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected, actual = reference(x), head({"final": x})
    assert_depends_on_input(actual[0], actual[1])
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5 * expected.abs().max().item())


def test_fcn_auxiliary_head_equals_torchvision() -> None:
    reference = _random(TorchvisionFCNHead(40, 21))  # in_channels // 4 = 10 channels
    head = FCNHead((40,), 21, in_taps=("low",), channels=10)
    head.load_state_dict(_converted(reference, "aux_classifier.", "auxiliary_head."))
    head.eval()
    x = torch.randn(2, 40, 17, 23)
    with torch.no_grad():
        torch.testing.assert_close(head({"low": x}), reference(x), rtol=0, atol=1e-5)


def test_auxiliary_keys_are_dropped_without_an_auxiliary_head() -> None:
    state = {f"aux_classifier.{k}": v for k, v in TorchvisionFCNHead(40, 21).state_dict().items()}
    state |= {f"classifier.{k}": v for k, v in TorchvisionLRASPPHead(40, 960, 21, 128).state_dict().items()}
    convert_torchvision_segmentation_keys(state, "model.", has_auxiliary_head=False)  # other prefix: no-op
    assert any(k.startswith("aux_classifier.") for k in state)
    convert_torchvision_segmentation_keys(state, "", has_auxiliary_head=False)
    assert state and all(k.startswith("decode_head.") for k in state)


def test_segmentor_sizes_a_two_tap_head_from_the_tap_table() -> None:
    model = Segmentor(
        backbone=dict(type="MobileNetV2", widen_factor=0.35, output_stride=16),
        decode_head=dict(type="LRASPPHead", num_classes=5, in_taps=("layer7", "final")),
        auxiliary_head=dict(type="FCNHead", num_classes=5, in_taps=("layer7",)),
    ).eval()
    assert model.in_taps == ("layer7", "final")
    assert model.decode_head.low_classifier.in_channels == 16  # layer7: 32 x 0.35 -> 16
    assert model.decode_head.cbr.conv.in_channels == 1280
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 80), mode="tensor").shape == (1, 5, 8, 10)


def test_segmentor_fills_in_the_heads_default_taps() -> None:
    """A config without in_taps reads LRASPPHead's defaults, MobileNetV3's low and final taps."""
    model = Segmentor(
        backbone=dict(type="MobileNetV3", arch="large", output_stride=16),
        decode_head=dict(type="LRASPPHead", num_classes=21),
        build_backbone=False,
    )
    assert model.in_taps == ("low", "final")
    assert model.decode_head.low_classifier.in_channels == 40
    assert model.decode_head.cbr.conv.in_channels == 960
