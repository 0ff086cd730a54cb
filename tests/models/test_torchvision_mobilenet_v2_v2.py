"""torchvision's mobilenet_v2 IMAGENET1K_V2 file: V1's network, evaluated at resize 232 / crop 224.

``configs/mobilenet_v2_imagenet1k_v2.py`` must preprocess a photo as torchvision's V2 transforms do and give
torchvision's logits from a file saved as torchvision saves V2 (a plain ``state_dict`` of ``mobilenet_v2()``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
import torchvision.transforms.functional as F
from mmengine.config import Config

from tests.bn_statistics import assert_depends_on_input
from tests.models.test_torchvision_checkpoint import randomised_torchvision
from tests.photos import photo, pipeline_input
from visionkit.models import load_checkpoint
from visionkit.models.checkpoint_fetch import torchvision_url
from visionkit.registry import MODELS

V2 = torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V2
PHOTOS = ("astronaut", "coffee")  # 512x512 and 600x400: downscaled to 232 on the shorter side


def torchvision_input(image: np.ndarray) -> torch.Tensor:
    """torchvision's V2 evaluation transform without its normalisation: (3, 224, 224) float in [0, 255]."""
    preset = V2.transforms()
    tensor = torch.from_numpy(image).permute(2, 0, 1)
    resized = F.resize(tensor, preset.resize_size, interpolation=preset.interpolation, antialias=True)
    return F.center_crop(resized, preset.crop_size).float()


@pytest.fixture(scope="module")
def cfg() -> Config:
    return Config.fromfile("configs/mobilenet_v2_imagenet1k_v2.py")


def test_the_v2_name_is_torchvisions_v2_file():
    assert torchvision_url("mobilenet_v2.IMAGENET1K_V2") == V2.url
    assert V2.transforms().resize_size == [232] and V2.transforms().crop_size == [224]


@pytest.mark.parametrize("name", PHOTOS)
def test_the_v2_config_preprocesses_as_torchvision(cfg, name):
    """Same crop of the same resize (mean difference a fraction of a grey level, from cv2's area resampling
    against torch's antialiased bilinear); the V1 pipeline (resize 256) is ~30 grey levels off."""
    image = photo(name)
    actual, expected = pipeline_input(cfg, image).float(), torchvision_input(image)
    assert actual.shape == expected.shape == (3, 224, 224)
    assert (actual - expected).abs().mean() < 1.5
    v1 = pipeline_input(Config.fromfile("configs/mobilenet_v2_imagenet_torchvision.py"), image).float()
    assert (v1 - expected).abs().mean() > 10


@pytest.mark.slow
def test_a_v2_file_gives_torchvision_logits_on_photos(cfg, tmp_path):
    """The config's model and data preprocessor, from a file saved as torchvision saves V2's weights, give
    torchvision's logits (model and ImageNet normalisation) on the same preprocessed photos."""
    reference = randomised_torchvision()
    path = tmp_path / "mobilenet_v2-7ebf99e0.pth"
    torch.save(reference.state_dict(), path)
    model = MODELS.build(cfg.model).eval()
    load_checkpoint(model, str(path))
    batch = [pipeline_input(cfg, photo(name)) for name in PHOTOS]
    with torch.no_grad():
        actual = model(model.data_preprocessor({"inputs": batch})["inputs"], mode="tensor")
        normalise = V2.transforms()
        expected = reference(F.normalize(torch.stack(batch).float() / 255, normalise.mean, normalise.std))
    assert_depends_on_input(expected[0], expected[1], min_change=0.2)
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-4 * expected.abs().max().item())
