"""timm's MobileNets in visionkit: each config loads timm's state dict (``.pth`` or ``.safetensors``) as it
is, preprocesses a photo as timm's own evaluation transform does, and gives timm's logits on photos, checked
against timm itself (a test dependency) on random weights with BN statistics measured on images."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from mmengine.config import Config
from PIL import Image
from safetensors.torch import save_file
from timm.data import create_transform, resolve_data_config

from tests.bn_statistics import assert_depends_on_input, randomise_affines_and_calibrate
from tests.photos import photo, pipeline_input
from visionkit.models import CheckpointMismatchError, load_checkpoint
from visionkit.models.checkpoint import load_state_dict_partial
from visionkit.models.checkpoint_fetch import expected_hash_prefix
from visionkit.models.checkpoint_names import TIMM_FILES, timm_url
from visionkit.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = {
    "mobilenetv2_050": "mobilenet_v2_timm_050_imagenet.py",
    "mobilenetv2_100": "mobilenet_v2_timm_imagenet.py",
    "mobilenetv2_140": "mobilenet_v2_timm_140_imagenet.py",
    "mobilenetv2_110d": "mobilenet_v2_timm_110d_imagenet.py",
    "mobilenetv2_120d": "mobilenet_v2_timm_120d_imagenet.py",
    "mobilenetv3_large_100": "mobilenet_v3_large_timm_imagenet.py",
    "mobilenetv3_small_100": "mobilenet_v3_small_timm_imagenet.py",
}
PHOTOS = ("chelsea", "rocket")  # 300x451 and 427x640: odd margins, where crops round differently


def config(name: str) -> Config:
    return Config.fromfile(str(ROOT / "configs" / CONFIGS[name]))


def timm_input(model: torch.nn.Module, image: np.ndarray) -> torch.Tensor:
    """timm's evaluation transform for ``model`` (its pretrained_cfg), normalised: (3, 224, 224) float."""
    return create_transform(**resolve_data_config({}, model=model))(Image.fromarray(image))


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_timms_state_dict_fits_the_config_exactly(name):
    """Every key of timm's model, renamed, is a key of the config's model with the same shape, and back."""
    reference = timm.create_model(name, pretrained=False)
    model = MODELS.build(config(name).model)
    model.load_state_dict(reference.state_dict(), strict=True)
    torch.testing.assert_close(model.backbone.stem.conv.weight, reference.conv_stem.weight)


@pytest.mark.parametrize("name", ["mobilenetv2_100", "mobilenetv3_large_100"])
def test_the_config_preprocesses_a_photo_as_timm(name):
    """From the same decoded pixels, the config's test pipeline gives timm's evaluation input to the bit
    (Pillow's bicubic resize to 256, the rounded 224 crop); only the normalisation is the model's."""
    cfg, reference = config(name), timm.create_model(name, pretrained=False)
    for image in map(photo, PHOTOS):
        expected = timm_input(reference, image)
        mean, std = (torch.tensor(cfg.model.data_preprocessor[k]).view(3, 1, 1) for k in ("mean", "std"))
        actual = (pipeline_input(cfg, image).float() - mean) / std
        torch.testing.assert_close(actual, expected, rtol=0, atol=1e-5)


def randomised_timm(name: str) -> torch.nn.Module:
    torch.manual_seed(0)
    return randomise_affines_and_calibrate(timm.create_model(name, pretrained=False), (64, 64))


def save(model: torch.nn.Module, path: Path) -> str:
    state = {key: value.contiguous() for key, value in model.state_dict().items()}
    if path.suffix == ".safetensors":
        save_file(state, str(path))  # as timm's hub files: tensors only, no metadata
    else:
        torch.save(state, path)
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "suffix"),
    [(name, ".safetensors") for name in sorted(CONFIGS)]
    + [("mobilenetv2_120d", ".pth"), ("mobilenetv3_small_100", ".pth")],
)
def test_logits_equal_timms_on_photos(tmp_path, name, suffix):
    """timm's model on timm's input against the config's model (data preprocessor included) on the config's
    input, from one file: logits within 1e-4 of their range (measured: 0 for MobileNetV2, 4e-5 of 211 for
    MobileNetV3-Large)."""
    reference = randomised_timm(name)
    cfg = config(name)
    model = MODELS.build(cfg.model).eval()
    load_checkpoint(model, save(reference, tmp_path / f"{name}{suffix}"))
    images = list(map(photo, PHOTOS))
    with torch.no_grad():
        expected = reference(torch.stack([timm_input(reference, image) for image in images]))
        batch = {"inputs": [pipeline_input(cfg, image) for image in images]}
        actual = model(model.data_preprocessor(batch)["inputs"], mode="tensor")
    assert_depends_on_input(expected[0], expected[1], min_change=0.1)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-4 * expected.abs().max().item())


def test_a_file_of_other_stage_repeats_names_the_option(tmp_path):
    """mobilenetv2_120d's file into the plain mobilenetv2_100 config: the error says what to build."""
    path = save(timm.create_model("mobilenetv2_120d", pretrained=False), tmp_path / "120d.safetensors")
    with pytest.raises(CheckpointMismatchError, match=re.escape("stage_repeats=(1, 3, 5, 6, 5, 5, 1)")):
        load_checkpoint(MODELS.build(config("mobilenetv2_100").model), path)


def test_a_timm_file_fine_tunes_on_new_classes(tmp_path):
    """As with torchvision's files: with 3 classes, only the final layer keeps its initialisation (for V3
    the hidden 1280-wide layer, timm's conv_head, loads)."""
    reference = timm.create_model("mobilenetv3_small_100", pretrained=False)
    cfg = config("mobilenetv3_small_100")
    cfg.model.head.num_classes = 3
    model = MODELS.build(cfg.model)
    skipped = load_state_dict_partial(model, reference.state_dict(), "timm file")
    assert skipped["missing"] == [] and skipped["unexpected"] == []
    assert [s.split()[0] for s in skipped["shape_mismatch"]] == ["head.fc.weight", "head.fc.bias"]
    torch.testing.assert_close(model.head.hidden.weight, reference.conv_head.weight.flatten(1))


@pytest.mark.parametrize("name", sorted(TIMM_FILES))
def test_timm_names_are_the_files_timm_downloads(name):
    """timm://NAME is the URL of timm's own pretrained_cfg (its GitHub release file, whose name carries a
    sha256 prefix the download is checked against); a bare model name is timm's default tag."""
    url = timm.models.get_pretrained_cfg(name).url
    assert timm_url(name) == url and timm_url(name.split(".")[0]) == url
    assert expected_hash_prefix(url) is not None
