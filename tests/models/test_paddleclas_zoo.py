"""PaddleClas's MobileNetV2 (x0.25-x2.0, SSLD) in visionkit: its ``.pdparams`` read as plain data, its layout
as backbone options, and its logits on photos as PaddlePaddle computes them with PaddleClas's own model and
transforms (a fixture made by dev/paddleclas_mobilenet_v2_fixture.py; paddlepaddle is not a dependency)."""

from __future__ import annotations

import base64
import hashlib
import json
import pickletools
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config

from tests.bn_statistics import assert_depends_on_input
from tests.models.paddleclas_reference import (
    FIXTURE,
    PHOTOS,
    SCALES,
    SMALL_FILE,
    is_statistic,
    layout_digest,
    paddleclas_layout,
    seeded_weights,
    write_pdparams,
)
from tests.models.test_checkpoint_protocol4 import NEW_OPCODES
from tests.photos import photo, pipeline_input
from visionkit.models import CheckpointMismatchError, MobileNetV2, load_checkpoint, read_checkpoint
from visionkit.models.checkpoint import load_state_dict_partial
from visionkit.models.checkpoint_formats import numpy_to_tensors
from visionkit.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = {
    0.25: "mobilenet_v2_paddle_025_imagenet.py",
    0.5: "mobilenet_v2_paddle_050_imagenet.py",
    0.75: "mobilenet_v2_paddle_075_imagenet.py",
    1.0: "mobilenet_v2_paddle_ssld_imagenet.py",
    1.5: "mobilenet_v2_paddle_150_imagenet.py",
    2.0: "mobilenet_v2_paddle_200_imagenet.py",
}
# PaddleClas's model list, "Params(M)" (docs/en/models/Mobile_en.md): its parameters and BN statistics.
PUBLISHED_PARAMS_M = {0.25: 1.53, 0.5: 1.98, 0.75: 2.65, 1.0: 3.54, 1.5: 6.90, 2.0: 11.33}


@pytest.fixture(scope="module")
def reference() -> dict:
    return json.loads(FIXTURE.read_text())


def config(scale: float) -> Config:
    return Config.fromfile(str(ROOT / "configs" / CONFIGS[scale]))


def fixture_weights(reference: dict) -> dict[str, np.ndarray]:
    """The weights the fixture was made with: seeded draws, BN statistics as PaddlePaddle measured them."""
    statistics = np.frombuffer(base64.b64decode(reference["statistics_float16"]), np.float16)
    return seeded_weights(paddleclas_layout(reference["scale"]), reference["seed"], statistics)


@pytest.mark.parametrize(
    ("scale", "widths"),
    [
        (0.25, [8, 4, 6, 8, 16, 24, 40, 80, 1280]),
        (0.75, [24, 12, 18, 24, 48, 72, 120, 240, 1280]),
        (1.5, [48, 24, 36, 48, 96, 144, 240, 480, 1920]),
    ],
)
def test_floor_widths_are_paddleclas_int_c_times_scale(scale, widths):
    """int(c * scale) of (32; 16, 24, 32, 64, 96, 160, 320; 1280 above 1), by hand; TF slim's rounding to
    multiples of 8 gives other widths at these scales."""
    taps = MobileNetV2.tap_table(widen_factor=scale, width_rounding="floor", expand_first_block=True)
    stage_ends = ["layer1", "layer2", "layer4", "layer7", "layer11", "layer14", "layer17", "layer18", "final"]
    assert [taps[name].channels for name in stage_ends] == widths
    assert taps["layer2_expansion"].channels == widths[0]  # the t=1 block expands 1x: in -> in
    default = MobileNetV2.tap_table(widen_factor=scale)
    assert [default[name].channels for name in stage_ends] != widths and "layer2_expansion" not in default


@pytest.mark.parametrize("scale", SCALES)
def test_each_width_config_has_paddleclas_published_size_and_layout(reference, scale):
    """The config's model holds PaddleClas's published parameter count (its "Params(M)" counts BN
    statistics too), and the layout the tests generate is the one PaddlePaddle's model had (the fixture)."""
    model = MODELS.build(config(scale).model)
    values = sum(p.numel() for p in model.parameters()) + sum(
        b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var"))
    )
    assert round(values / 1e6, 2) == PUBLISHED_PARAMS_M[scale]
    layout = paddleclas_layout(scale)
    assert layout_digest(layout) == reference["layouts"][str(scale)]["digest"]
    assert sum(int(np.prod(shape)) for _, shape in layout) == values


def test_a_paddleclas_file_loads_strictly_into_its_config(tmp_path, reference):
    """Every entry renamed, the Linear transposed from Paddle's (in, out), the name table dropped."""
    weights = fixture_weights(reference)
    model = MODELS.build(config(0.25).model)
    load_checkpoint(model, str(write_pdparams(tmp_path / "MobileNetV2_x0_25_pretrained.pdparams", weights)))
    pairs = {
        "backbone.stem.conv.weight": "conv1._conv.weight",
        "backbone.blocks.0.expand.bn.running_var": "conv2._first_block._expand_conv._batch_norm._variance",
        "backbone.blocks.2.depthwise.conv.weight": "conv3.conv3_2._bottleneck_conv._conv.weight",
        "backbone.blocks.16.project.bn.running_mean": "conv8._first_block._linear_conv._batch_norm._mean",
        "backbone.final_conv.bn.bias": "conv9._batch_norm.bias",
    }
    state = model.state_dict()
    for ours, theirs in pairs.items():
        np.testing.assert_array_equal(state[ours].numpy(), weights[theirs])
    np.testing.assert_array_equal(state["head.fc.weight"].numpy(), weights["out.weight"].T)


@pytest.mark.slow
@pytest.mark.parametrize("scale", [0.5, 0.75, 1.0, 1.5, 2.0])
def test_every_width_loads_strictly(tmp_path, scale):
    layout = paddleclas_layout(scale)
    count = sum(int(np.prod(shape)) for name, shape in layout if is_statistic(name))
    weights = seeded_weights(layout, 0, np.ones(count, np.float32))
    model = MODELS.build(config(scale).model)
    load_checkpoint(model, str(write_pdparams(tmp_path / "w.pdparams", weights)))
    np.testing.assert_array_equal(model.head.fc.weight.detach().numpy(), weights["out.weight"].T)


def test_the_file_paddle_wrote_reads_as_plain_data(reference):
    """paddle.save's own bytes (protocol 4: exactly the six opcodes added to torch's set, and some of
    torch's) read into tensors equal to the weights that were set, without Paddle's name table."""
    opcodes = {op.name for op, _, _ in pickletools.genops(SMALL_FILE.read_bytes())}
    assert opcodes == set(reference["small_file_opcodes"]) and NEW_OPCODES <= opcodes
    loaded = read_checkpoint(str(SMALL_FILE))
    weights = fixture_weights(reference)
    expected = [name for name in weights if name.startswith(("conv1.", "conv2."))]
    assert sorted(loaded) == sorted(expected)
    for name in expected:
        np.testing.assert_array_equal(loaded[name].numpy(), weights[name])


def test_logits_equal_paddleclas_on_photos(tmp_path, reference):
    """PaddleClas's MobileNet(scale=0.25) in PaddlePaddle, PaddleClas's evaluation transforms, on two photos
    (the fixture) against configs/mobilenet_v2_paddle_025_imagenet.py from a .pdparams of the same weights:
    the same crop to the byte, logits within 1e-4 (they reach 3)."""
    expected = torch.tensor([reference["photos"][name]["logits"] for name in PHOTOS])
    assert_depends_on_input(expected[0], expected[1], min_change=0.1)
    cfg = config(0.25)
    model = MODELS.build(cfg.model).eval()
    load_checkpoint(model, str(write_pdparams(tmp_path / "w.pdparams", fixture_weights(reference))))
    crops = [pipeline_input(cfg, photo(name)) for name in PHOTOS]
    for name, crop in zip(PHOTOS, crops, strict=True):
        digest = hashlib.sha256(crop.permute(1, 2, 0).numpy().tobytes()).hexdigest()
        assert digest == reference["photos"][name]["crop_sha256"], name
    with torch.no_grad():
        actual = model(model.data_preprocessor({"inputs": crops})["inputs"], mode="tensor")
    torch.testing.assert_close(actual, expected, rtol=0, atol=1e-4)


def test_a_paddleclas_file_into_a_torchvision_layout_names_the_options(tmp_path, reference):
    path = write_pdparams(tmp_path / "w.pdparams", fixture_weights(reference))
    message = re.escape("MobileNetV2(expand_first_block=True, width_rounding='floor')")
    with pytest.raises(CheckpointMismatchError, match=message):
        load_checkpoint(MobileNetV2(widen_factor=0.25), str(path))


def test_a_paddleclas_file_fine_tunes_on_new_classes_and_feeds_a_bare_backbone(reference):
    """With 3 classes only the classifier keeps its initialisation; a bare backbone drops it (logged)."""
    weights = numpy_to_tensors(fixture_weights(reference))
    cfg = config(0.25)
    cfg.model.head.num_classes = 3
    skipped = load_state_dict_partial(MODELS.build(cfg.model), weights, "PaddleClas file")
    assert skipped["missing"] == [] and skipped["unexpected"] == []
    assert [s.split()[0] for s in skipped["shape_mismatch"]] == ["head.fc.weight", "head.fc.bias"]
    backbone = MobileNetV2(widen_factor=0.25, width_rounding="floor", expand_first_block=True)
    backbone.load_state_dict(dict(weights), strict=True)
    torch.testing.assert_close(backbone.final_conv.conv.weight, weights["conv9._conv.weight"])
