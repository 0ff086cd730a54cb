"""torchvision's deeplabv3_mobilenet_v3_large and lraspp_mobilenet_v3_large state dicts load through
configs/{deeplabv3,lraspp}_mnv3_large_voc.py and give torchvision's segmentation logits on photos."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from skimage import data as skimage_data
from torch import nn
from torchvision.transforms._presets import SemanticSegmentation

from tests.bn_statistics import assert_depends_on_input, randomise_affines_and_calibrate
from visionkit.apis import init_model
from visionkit.apis.inference import build_test_pipeline, prepare_image
from visionkit.structures import DataSample

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {
    "deeplabv3": REPO / "configs/deeplabv3_mnv3_large_voc.py",
    "lraspp": REPO / "configs/lraspp_mnv3_large_voc.py",
}
# (H, W): not multiples of 16, so every resize (low to high tap, logits to the input) is fractional. The
# DeepLab photos are wide enough (38 columns at stride 16) for the rate-36 ASPP branch to see data.
SIZES = {"deeplabv3": (184, 600), "lraspp": (200, 152)}


@functools.cache
def torchvision_model(name: str) -> nn.Module:
    """torchvision's model as its published weights are built (deeplabv3 with its auxiliary head), every
    BatchNorm's affine drawn and its statistics measured on images, in eval mode."""
    torch.manual_seed(0)
    if name == "deeplabv3":
        builder = functools.partial(
            torchvision.models.segmentation.deeplabv3_mobilenet_v3_large, aux_loss=True
        )
    else:
        builder = torchvision.models.segmentation.lraspp_mobilenet_v3_large
    model = builder(weights=None, weights_backbone=None, num_classes=21)
    return randomise_affines_and_calibrate(model, (96, 128))


def photos(size: tuple[int, int]) -> torch.Tensor:
    """Two skimage photos cropped to ``size`` (H, W): (2, 3, H, W) uint8."""
    crops = [getattr(skimage_data, name)()[: size[0], : size[1], :3] for name in ("coffee", "rocket")]
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).contiguous()


def visionkit_logits(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """The segmentor's test-time scores (N, K, H, W) at the image size, through its data preprocessor."""
    height, width = images.shape[-2:]
    meta = dict(ori_shape=(height, width), img_shape=(height, width))
    data = model.data_preprocessor(
        dict(inputs=list(images), data_samples=[DataSample(metainfo=meta) for _ in images]), False
    )
    with torch.no_grad():
        samples = model(**data, mode="predict")
    return torch.stack([sample.seg_logits for sample in samples])


@functools.cache
def loaded(name: str, checkpoint_dir: Path) -> nn.Module:
    path = checkpoint_dir / f"{name}_mobilenet_v3_large.pth"
    torch.save(torchvision_model(name).state_dict(), path)
    return init_model(str(CONFIGS[name]), str(path), cfg_options={"model.test_cfg.with_logits": True})


@pytest.fixture(scope="module")
def checkpoint_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("torchvision_segmentation")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lraspp", "deeplabv3"])
def test_logits_equal_torchvision(name, checkpoint_dir):
    images = photos(SIZES[name])
    normalise = SemanticSegmentation(resize_size=None)  # torchvision's preset without its resize
    with torch.no_grad():
        expected = torchvision_model(name)(normalise(images))["out"]
    actual = visionkit_logits(loaded(name, checkpoint_dir), images)
    assert actual.shape == expected.shape == (2, 21, *SIZES[name])
    assert_depends_on_input(expected[0], expected[1], min_change=0.2)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-4 * expected.abs().max().item())


@pytest.mark.slow
def test_deeplabv3_auxiliary_head_is_torchvisions(checkpoint_dir):
    model, reference = loaded("deeplabv3", checkpoint_dir), torchvision_model("deeplabv3")
    images = photos((96, 128))
    with torch.no_grad():
        expected = reference.aux_classifier(
            reference.backbone(SemanticSegmentation(resize_size=None)(images))["aux"]
        )
        taps = model.backbone(model.data_preprocessor(dict(inputs=list(images)), False)["inputs"])
        actual = model.auxiliary_head(taps)
    assert_depends_on_input(expected[0], expected[1])
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-4 * expected.abs().max().item())


def test_lraspp_checkpoint_with_an_auxiliary_head_config_says_what_is_missing(checkpoint_dir):
    from visionkit.models import CheckpointMismatchError

    path = checkpoint_dir / "lraspp_for_aux.pth"
    torch.save(torchvision_model("lraspp").state_dict(), path)
    options = {"model.auxiliary_head": dict(type="FCNHead", num_classes=21, in_taps=("low",), channels=10)}
    with pytest.raises(CheckpointMismatchError, match=r"missing in the checkpoint.*auxiliary_head\.conv"):
        init_model(str(CONFIGS["lraspp"]), str(path), cfg_options=options)


def test_deeplabv3_checkpoint_without_an_auxiliary_head_config_drops_it(checkpoint_dir):
    path = checkpoint_dir / "deeplabv3_no_aux.pth"
    torch.save(torchvision_model("deeplabv3").state_dict(), path)
    model = init_model(str(CONFIGS["deeplabv3"]), str(path), cfg_options={"model.auxiliary_head": None})
    assert model.auxiliary_head is None
    torch.testing.assert_close(
        model.decode_head.classifier.weight, torchvision_model("deeplabv3").classifier[4].weight
    )


@pytest.mark.parametrize("name", ["lraspp", "deeplabv3"])
def test_test_pipeline_resizes_as_torchvisions_preset(name):
    """The config resizes the short side to 520 as torchvision's eval preset; the pixels agree to the
    rounding of two bilinear resizers (cv2 here, torchvision's antialiased one there)."""
    from mmengine.config import Config

    image = skimage_data.coffee()  # 400 x 600
    packed = prepare_image(image, build_test_pipeline(Config.fromfile(str(CONFIGS[name]))))
    ours = packed["inputs"].float()
    theirs = SemanticSegmentation(resize_size=520)(torch.from_numpy(image).permute(2, 0, 1))
    theirs = (
        theirs * torch.tensor([0.229, 0.224, 0.225])[:, None, None]
        + torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    )
    assert ours.shape == theirs.shape == (3, 520, 780)
    assert (ours - theirs * 255).abs().mean() < 0.5  # measured 0.12 grey levels
