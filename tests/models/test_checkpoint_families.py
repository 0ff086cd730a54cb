"""A checkpoint of one family of networks loaded into another's config: the error names the family the file
looks like and visionkit's configs for it (and never crashes in a renaming hook on the way)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
import torchvision
from mmengine.config import Config

from tests.models.paddleclas_reference import is_statistic, paddleclas_layout, seeded_weights, write_pdparams
from visionkit.models import CheckpointMismatchError, load_checkpoint
from visionkit.models.checkpoint_families import VISIONKIT, checkpoint_family
from visionkit.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]


def paddleclas(path: Path) -> None:
    layout = paddleclas_layout(0.25)
    count = sum(int(np.prod(shape)) for name, shape in layout if is_statistic(name))
    write_pdparams(path, seeded_weights(layout, 0, np.ones(count, np.float32)))


def saved(build):
    return lambda path: torch.save(build().state_dict(), path)


FILES = {
    "paddleclas": paddleclas,
    "timm-v2": saved(lambda: timm.create_model("mobilenetv2_050")),
    "timm-v3": saved(lambda: timm.create_model("mobilenetv3_small_100")),
    "torchvision-v2": saved(lambda: torchvision.models.mobilenet_v2(width_mult=0.35)),
    "torchvision-v3": saved(torchvision.models.mobilenet_v3_small),
}


@pytest.mark.parametrize(
    ("file", "config", "message"),
    [
        ("timm-v3", "mobilenet_v2_timm_imagenet.py", "timm MobileNetV3 checkpoint into a MobileNetV2.*"),
        ("torchvision-v3", "mobilenet_v2_timm_imagenet.py", ""),
        ("paddleclas", "mobilenet_v3_small_timm_imagenet.py", ""),
        ("timm-v2", "mobilenet_v2_paddle_025_imagenet.py", ""),
        ("torchvision-v2", "mobilenet_v2_paddle_025_imagenet.py", ""),
    ],
    ids=["timm-v3-into-v2", "torchvision-v3-into-v2", "paddle-into-v3", "timm-into-paddle", "tv-into-paddle"],
)
def test_a_file_of_another_family_names_the_family_and_its_configs(tmp_path, file, config, message):
    families = {
        "paddleclas": r"PaddleClas's MobileNetV2: load it with configs/mobilenet_v2_paddle_\*\.py",
        "timm-v2": r"timm's MobileNetV2: load it with configs/mobilenet_v2_timm_\*\.py",
        "timm-v3": r"timm's MobileNetV3: load it with configs/mobilenet_v3_\*_timm_imagenet\.py",
        "torchvision-v2": r"torchvision's mobilenet_v2: load it with configs/mobilenet_v2_imagenet_",
        "torchvision-v3": r"torchvision's mobilenet_v3_large / _small: load it with configs/mobilenet_v3_",
    }
    path = tmp_path / "weights.pth"
    FILES[file](path)
    model = MODELS.build(Config.fromfile(str(ROOT / "configs" / config)).model)
    with pytest.raises(CheckpointMismatchError) as error:
        load_checkpoint(model, str(path))
    text = str(error.value)
    assert text.startswith("Checkpoint '") and "weights.pth' does not fit ImageClassifier" in text
    pattern = rf"(?s){message}\n  The file looks like a checkpoint of {families[file]}"
    assert re.search(pattern, text), text
    assert "prefix='backbone.'" not in text  # another library's keys are never a visionkit whole model's


def test_whole_models_are_told_from_their_backbones():
    """Detectors and segmenters of torchvision and mmdetection carry a MobileNet inside: the whole model is
    named (mmdetection's keys as its fixture recorded them)."""
    detection = torchvision.models.detection
    segmentation = torchvision.models.segmentation
    mmdet = json.loads((Path(__file__).parent / "fixtures/mmdet_ssdlite_outputs.json").read_text())
    cases = {
        "torchvision's ssdlite320_mobilenet_v3_large": detection.ssdlite320_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=3
        ).state_dict(),
        "torchvision's deeplabv3 / lraspp_mobilenet_v3_large": segmentation.lraspp_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=3
        ).state_dict(),
        "mmdetection's SSDLite": dict(mmdet["key_shapes"]),
        "mmdetection's MobileNetV2": {
            k[len("backbone.") :]: v for k, v in mmdet["key_shapes"] if k.startswith("backbone.")
        },
        VISIONKIT: MODELS.build(
            Config.fromfile(str(ROOT / "configs/mobilenet_v2_paddle_025_imagenet.py")).model
        ).state_dict(),
    }
    assert {family: checkpoint_family(keys)[0] for family, keys in cases.items()} == {f: f for f in cases}
    assert checkpoint_family(["weight", "bias"]) is None


def test_a_visionkit_whole_model_into_a_backbone_still_gets_the_prefix_hint(tmp_path):
    cfg = Config.fromfile(str(ROOT / "configs/mobilenet_v2_timm_050_imagenet.py"))
    path = tmp_path / "classifier.pth"
    torch.save(MODELS.build(cfg.model).state_dict(), path)
    with pytest.raises(CheckpointMismatchError, match=r"(?s)pass prefix='backbone\.'.*a visionkit model"):
        load_checkpoint(MODELS.build(cfg.model.backbone), str(path))
