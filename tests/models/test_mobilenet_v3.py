"""MobileNetV3 Large / Small: torchvision's checkpoints load through the configs and give torchvision's
logits and features on real photos; the tap table matches the features at every width and output stride."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
import torchvision.transforms.functional as TF
from skimage import data as skimage_data
from torch import Tensor, nn
from torchvision.models.detection.ssdlite import _mobilenet_extractor
from torchvision.models.segmentation.lraspp import _lraspp_mobilenetv3

from tests.bn_statistics import assert_depends_on_input, calibrate_batchnorm, randomise_affines_and_calibrate
from visionkit.apis import init_model
from visionkit.models import CheckpointMismatchError, MobileNetV3, load_checkpoint
from visionkit.models.backbones import backbone_taps

TORCHVISION = {"large": torchvision.models.mobilenet_v3_large, "small": torchvision.models.mobilenet_v3_small}
CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PHOTOS = ("astronaut", "coffee", "chelsea")
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def photos(size: int = 224) -> Tensor:
    """skimage.data photos, resized (shorter side 256 / 224 of ``size``) and centre-cropped: (3, 3, S, S)
    uint8 as float."""
    images = []
    for name in PHOTOS:
        image = torch.from_numpy(np.ascontiguousarray(getattr(skimage_data, name)()[..., :3])).permute(
            2, 0, 1
        )
        image = TF.resize(image, size * 256 // 224, antialias=True)
        images.append(TF.center_crop(image, size))
    return torch.stack(images).float()


def randomised_torchvision(arch: str, **kwargs: object) -> nn.Module:
    """torchvision MobileNetV3 with random BN affines and linears, BN statistics measured on images."""
    torch.manual_seed(0)
    return randomise_affines_and_calibrate(TORCHVISION[arch](**kwargs), (128, 128))


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["large", "small"])
def test_config_loads_torchvision_file_and_gives_its_logits(tmp_path, arch):
    reference = randomised_torchvision(arch)
    path = tmp_path / f"mobilenet_v3_{arch}.pth"
    torch.save(reference.state_dict(), path)
    model = init_model(str(CONFIGS / f"mobilenet_v3_{arch}_imagenet.py"), str(path))
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in reference.parameters())
    images = photos()
    with torch.no_grad():
        inputs = model.data_preprocessor({"inputs": list(images.to(torch.uint8))}, False)["inputs"]
        torch.testing.assert_close(inputs, TF.normalize(images / 255, MEAN, STD))  # torchvision's transform
        actual, expected = model(inputs, mode="tensor"), reference(inputs)
    assert_depends_on_input(expected[0], expected[1], min_change=0.2)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-4)


@pytest.mark.parametrize(
    "arch, output_stride, reduced_tail", [("large", 16, False), ("small", 16, False), ("large", 32, True)]
)
def test_taps_are_torchvision_segmentation_and_ssdlite_features(tmp_path, arch, output_stride, reduced_tail):
    """``low``/``final`` are what torchvision's LR-ASPP reads (``dilated=True``: output stride 16),
    ``c4_expansion``/``final`` what its SSDLite reads (``reduced_tail``), from the same file."""
    reference = randomised_torchvision(arch, dilated=output_stride == 16, reduced_tail=reduced_tail)
    path = tmp_path / "mobilenet_v3.pth"
    torch.save(reference.state_dict(), path)
    taps = ("low", "c4_expansion", "final")
    backbone = MobileNetV3(arch, output_stride=output_stride, reduced_tail=reduced_tail, out_taps=taps).eval()
    load_checkpoint(backbone, str(path))
    assert sum(p.numel() for p in backbone.parameters()) == sum(
        p.numel() for p in reference.features.parameters()
    )
    images = TF.normalize(photos(160) / 255, MEAN, STD)
    with torch.no_grad():
        feats = backbone(images)
        segmentation = _lraspp_mobilenetv3(reference, num_classes=2).backbone(images)
        ssdlite = _mobilenet_extractor(reference, 6, nn.BatchNorm2d).features[0](images)
    assert_depends_on_input(segmentation["high"][0], segmentation["high"][1])
    torch.testing.assert_close(feats["low"], segmentation["low"], rtol=0, atol=1e-4)
    torch.testing.assert_close(feats["final"], segmentation["high"], rtol=0, atol=1e-4)
    torch.testing.assert_close(feats["c4_expansion"], ssdlite, rtol=0, atol=1e-4)
    for name, feat in feats.items():
        info = backbone.taps[name]
        assert feat.shape[1:] == (info.channels, 160 // info.stride, 160 // info.stride), name


@pytest.mark.parametrize("arch", ["large", "small"])
@pytest.mark.parametrize("width", [1.0, 0.75])
@pytest.mark.parametrize("output_stride", [32, 16, 8])
def test_tap_table_is_the_features(arch, width, output_stride):
    """Every tap's channels and stride are the forward pass's; dilation makes up the stride each block lost
    (torchvision's rule: the strided block that would pass the output stride is dilated itself)."""
    arch_args = dict(arch=arch, widen_factor=width, output_stride=output_stride)
    table = MobileNetV3.tap_table(**arch_args)
    assert backbone_taps(dict(type="MobileNetV3", **arch_args)) == table
    backbone = MobileNetV3(**arch_args, out_taps=tuple(table)).eval()
    with torch.no_grad():
        feats = backbone(torch.randn(1, 3, 64, 64))
    for name, feat in feats.items():
        assert feat.shape[1:] == (table[name].channels, 64 // table[name].stride, 64 // table[name].stride), (
            name
        )
    undilated = MobileNetV3.tap_table(arch=arch, widen_factor=width)
    for layer, block in enumerate(backbone.blocks, start=2):
        lost = undilated[f"layer{layer}"].stride // table[f"layer{layer}"].stride
        assert block.depthwise.conv.dilation == (lost, lost), layer
    assert table["final"].stride == output_stride
    assert table["low"].stride == 8 and table["c4_expansion"].stride == min(16, output_stride)


@pytest.mark.parametrize(
    "arch, channels",
    [("large", {"low": 40, "c4_expansion": 672, "final": 960}), ("small", {"low": 24, "final": 576})],
)
def test_paper_widths(arch, channels):
    table = MobileNetV3.tap_table(arch=arch)
    assert {name: table[name].channels for name in channels} == channels
    assert MobileNetV3.tap_table(arch=arch, reduced_tail=True)["final"].channels == channels["final"] // 2


def test_squeeze_excite_gates_with_hard_sigmoid():
    block = MobileNetV3("small", out_taps=("layer2",)).blocks[0]  # 16 ch, SE squeeze 8
    assert (block.se.fc1.out_channels, type(block.se.gate)) == (8, nn.Hardsigmoid)


def test_mobilenet_v2_file_is_refused_by_name(tmp_path):
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(torchvision.models.mobilenet_v2().state_dict(), path)
    with pytest.raises(CheckpointMismatchError, match=r"features\.1\.conv"):
        load_checkpoint(MobileNetV3("small"), str(path))


def test_frozen_stages_and_memory_efficient_blocks():
    backbone = MobileNetV3("large", frozen_stages=2).train()
    assert not any(p.requires_grad for p in backbone.stem.parameters())
    frozen = [all(not p.requires_grad for p in b.parameters()) for b in backbone.blocks]
    assert frozen == [True] * 3 + [False] * 12 and not backbone.blocks[2].training
    with pytest.raises(ValueError, match=r"frozen_stages must be in -1\.\.6"):
        MobileNetV3("large", frozen_stages=7)
    backbone = MobileNetV3("large", widen_factor=0.5)
    calibrate_batchnorm(backbone, (64, 64), run=backbone)
    images = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        whole = backbone(images)["final"]
        backbone.set_memory_efficient_splits(3)
        sliced = backbone(images)["final"]
    assert sum(block.se is None for block in backbone.blocks) == 7  # those run in slices, the others whole
    torch.testing.assert_close(sliced, whole, rtol=0, atol=1e-4 * float(whole.abs().max()))
