"""torchvision mobilenet_v2 checkpoints load into visionkit and give torchvision's logits."""

import hashlib
import io
import re
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn

from tests.bn_statistics import assert_depends_on_input, randomise_affines_and_calibrate
from visionkit.models import (
    CheckpointFetchError,
    CheckpointMismatchError,
    ImageClassifier,
    MobileNetV2,
    checkpoint_fetch,
    load_checkpoint,
)


def randomised_torchvision(width: float = 1.0, num_classes: int = 1000) -> nn.Module:
    """A torchvision MobileNetV2 with random BN affines and linears and BN statistics measured on images."""
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v2(width_mult=width, num_classes=num_classes)
    return randomise_affines_and_calibrate(model, (96, 96))


def build_classifier(width: float = 1.0, num_classes: int = 1000) -> ImageClassifier:
    return ImageClassifier(
        backbone=dict(type="MobileNetV2", widen_factor=width),
        head=dict(type="ClassifierHead", num_classes=num_classes),
    ).eval()


@pytest.mark.slow
@pytest.mark.parametrize("width", [1.0, 0.35, 1.4])
def test_logits_equal_torchvision(tmp_path, width):
    reference = randomised_torchvision(width)
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(reference.state_dict(), path)
    model = build_classifier(width)
    load_checkpoint(model, str(path))
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected, actual = reference(images), model(images, mode="tensor")
    assert_depends_on_input(expected[0], expected[1], min_change=0.2)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-4 * expected.abs().max().item())


@pytest.mark.slow
def test_backbone_only_load_takes_the_same_file(tmp_path):
    reference = randomised_torchvision()
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(reference.state_dict(), path)
    backbone = MobileNetV2(out_taps=("layer15_expansion", "final")).eval()
    load_checkpoint(backbone, str(path))
    images = torch.randn(1, 3, 320, 320)
    with torch.no_grad():
        feats = backbone(images)
        torch.testing.assert_close(feats["final"], reference.features(images))
        expansion = reference.features[14].conv[0](reference.features[:14](images))
        torch.testing.assert_close(feats["layer15_expansion"], expansion)


@pytest.mark.slow
def test_pretrained_init_cfg_in_a_backbone(tmp_path):
    reference = randomised_torchvision()
    path = tmp_path / "mnv2.pth"
    torch.save(reference.state_dict(), path)
    backbone = MobileNetV2(init_cfg=dict(type="Pretrained", checkpoint=str(path)))
    backbone.init_weights()
    torch.testing.assert_close(backbone.stem.conv.weight, reference.features[0][0].weight)
    torch.testing.assert_close(
        backbone.blocks[16].project.bn.running_var, reference.features[17].conv[3].running_var
    )


def test_visionkit_classifier_checkpoint_into_backbone_with_prefix(tmp_path):
    model = build_classifier()
    path = tmp_path / "visionkit.pth"
    torch.save({"state_dict": model.state_dict(), "meta": {}}, path)
    backbone = MobileNetV2()
    with pytest.raises(CheckpointMismatchError, match=re.escape("prefix='backbone.'")):
        load_checkpoint(backbone, str(path))
    load_checkpoint(backbone, str(path), prefix="backbone.")
    torch.testing.assert_close(backbone.final_conv.conv.weight, model.backbone.final_conv.conv.weight)


@pytest.mark.slow
def test_mismatched_checkpoint_names_the_keys(tmp_path):
    path = tmp_path / "wrong.pth"
    torch.save(randomised_torchvision(num_classes=10).state_dict(), path)
    with pytest.raises(CheckpointMismatchError, match=r"(?s)wrong.pth.*head\.fc\.weight"):
        load_checkpoint(build_classifier(num_classes=1000), str(path))
    torch.save({"foo.weight": torch.zeros(1)}, path)
    with pytest.raises(
        CheckpointMismatchError, match=r"(?s)missing in the checkpoint.*not in the model \(1\): foo.weight"
    ):
        load_checkpoint(build_classifier(), str(path))


def _fake_download(monkeypatch, tmp_path) -> tuple[list[str], nn.Module, str]:
    """Record the URLs visionkit downloads and serve one randomised torchvision model (returned, with the
    sha256 prefix of its file) instead (tests/models/test_checkpoint_fetch.py downloads over real HTTP)."""
    urls = []
    reference = randomised_torchvision()
    buffer = io.BytesIO()
    torch.save(reference.state_dict(), buffer)

    def download(url, file):
        urls.append(url)
        file.write(buffer.getvalue())

    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path))
    monkeypatch.setattr(checkpoint_fetch, "download_to_file", download)
    return urls, reference, hashlib.sha256(buffer.getvalue()).hexdigest()


def test_torchvision_scheme_resolves_to_the_published_url_and_checks_its_hash(monkeypatch, tmp_path):
    urls, _, actual = _fake_download(monkeypatch, tmp_path)
    with pytest.raises(CheckpointFetchError, match=rf"b0353104\.\.\., the downloaded file has {actual}"):
        load_checkpoint(build_classifier(), "torchvision://mobilenet_v2")
    assert urls == [torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1.url]
    assert not Path(checkpoint_fetch.cache_path(urls[0])).exists()


@pytest.mark.slow
def test_http_url_is_downloaded_once_then_read_from_the_cache(monkeypatch, tmp_path):
    """An https:// checkpoint is downloaded once into the cache, and its torchvision keys are renamed
    on the way in (the loaded weights are the downloaded file's)."""
    urls, reference, sha256 = _fake_download(monkeypatch, tmp_path)
    url = f"https://example.org/mobilenet_v2-{sha256[:8]}.pth"
    for _ in range(2):
        model = build_classifier()
        load_checkpoint(model, url)
    assert urls == [url]
    assert Path(checkpoint_fetch.cache_path(url)).is_file() and url.endswith(
        Path(checkpoint_fetch.cache_path(url)).name
    )
    torch.testing.assert_close(model.head.fc.weight, reference.classifier[1].weight)
    torch.testing.assert_close(
        model.backbone.blocks[3].expand.bn.running_var, reference.features[4].conv[0][1].running_var
    )


@pytest.mark.slow
def test_backbone_without_final_tap_skips_the_final_conv_weights(tmp_path):
    reference = randomised_torchvision()
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(reference.state_dict(), path)
    backbone = MobileNetV2(out_taps=("layer18",))
    assert backbone.final_conv is None
    load_checkpoint(backbone, str(path))
    full = MobileNetV2(out_taps=("layer18", "final"))
    load_checkpoint(full, str(path))
    torch.testing.assert_close(backbone.blocks[16].project.conv.weight, reference.features[17].conv[2].weight)
    assert sum(p.numel() for p in full.parameters()) - sum(p.numel() for p in backbone.parameters()) == (
        320 * 1280 + 2 * 1280
    )
