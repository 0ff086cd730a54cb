"""Fine-tuning from timm's and PaddleClas's files on new classes, as a user does it with a torchvision file: a
config that inherits the zoo's with 4 classes, ``load_from`` the file as it is downloaded (``.pth``,
``.safetensors``, ``.pdparams``), ``load_from_strict=False``, trained on a set in the ImageNet layout
(``--data-root``). Exactly the classifier is skipped (listed in the log), every other weight is the file's,
and an epoch trains."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
import timm
import torch
from safetensors.torch import save_file

from tests.models.paddleclas_reference import is_statistic, paddleclas_layout, seeded_weights, write_pdparams
from visionkit.datasets.toy_data.classification import TOY_CLASSES, make_classification_set
from visionkit.engine import Runner, load_config
from visionkit.models import load_checkpoint
from visionkit.registry import MODELS

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def timm_pth(path: Path) -> Path:
    torch.save(timm.create_model("mobilenetv2_050", pretrained=False).state_dict(), path)
    return path


def timm_safetensors(path: Path) -> Path:
    save_file(timm.create_model("mobilenetv3_small_100", pretrained=False).state_dict(), str(path))
    return path


def paddleclas_pdparams(path: Path) -> Path:
    layout = paddleclas_layout(0.25)
    count = sum(int(np.prod(shape)) for name, shape in layout if is_statistic(name))
    statistics = np.random.default_rng(0).uniform(0.5, 2.0, count).astype(np.float32)
    return write_pdparams(path, seeded_weights(layout, 0, statistics))


ZOOS = {
    "timm-pth": ("mobilenet_v2_timm_050_imagenet.py", timm_pth, "mobilenetv2_050.pth"),
    "timm-safetensors": (
        "mobilenet_v3_small_timm_imagenet.py",
        timm_safetensors,
        "mobilenetv3_small_100.safetensors",
    ),
    "paddleclas-pdparams": (
        "mobilenet_v2_paddle_025_imagenet.py",
        paddleclas_pdparams,
        "MobileNetV2_x0_25_pretrained.pdparams",
    ),
}

USER_CONFIG = """_base_ = ["visionkit::{zoo}"]
model = dict(head=dict(num_classes=4))
load_from = "{checkpoint}"
load_from_strict = False
train_cfg = dict(max_epochs=1)
loader = dict(batch_size=4, num_workers=0, persistent_workers=False)
train_dataloader = loader
val_dataloader = loader
default_hooks = dict(logger=dict(interval=1))
experiment_name = "{name}"
"""


@pytest.fixture(scope="module")
def toy_set(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("zoo_fine_tune")
    return make_classification_set(root, num_train_per_class=2, num_val_per_class=1, image_size=32)["root"]


@pytest.mark.parametrize("zoo", sorted(ZOOS))
def test_a_zoo_file_fine_tunes_on_four_classes(tmp_path, toy_set, capsys, zoo):
    config_name, write, file_name = ZOOS[zoo]
    checkpoint = write(tmp_path / file_name)
    user_config = tmp_path / "my_classifier.py"
    user_config.write_text(
        USER_CONFIG.format(
            zoo=config_name,
            checkpoint=checkpoint,
            name=f"zoo_{uuid.uuid4().hex[:8]}",
        )
    )
    cfg = load_config(str(user_config), work_dir=str(tmp_path / "work"), data_root=str(toy_set))
    assert cfg.model.head.num_classes == len(TOY_CLASSES) == 4
    home = MODELS.build(load_config(str(ROOT / "configs" / config_name)).model)
    load_checkpoint(home, str(checkpoint))  # strict: the file as its own config holds it

    runner = Runner.from_cfg(cfg)
    head_before = runner.model.head.fc.weight.detach().clone()
    runner.load_or_resume()
    log = capsys.readouterr().out
    assert "shape mismatch (kept their initialisation) (2): head.fc." in log
    assert "head.fc.weight (1000, " in log and "head.fc.bias (1000,) vs (4,)" in log
    assert "missing in the checkpoint" not in log and "not in the model" not in log
    loaded = runner.model.state_dict()
    for key, value in home.state_dict().items():
        if key.startswith("head.fc."):
            continue
        torch.testing.assert_close(loaded[key], value, rtol=0, atol=0, msg=key)
    torch.testing.assert_close(loaded["head.fc.weight"], head_before, rtol=0, atol=0)

    runner.train()
    assert not torch.equal(runner.model.head.fc.weight.detach(), head_before)
    assert (tmp_path / "work" / "epoch_1.pth").is_file()
