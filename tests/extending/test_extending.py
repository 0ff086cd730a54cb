"""docs/extending.md's promise, kept: a backbone, a head, a task and a runtime added from one file of
their own (tests/extending/toy_extension.py) work through visionkit's entry points (registries, the
visualizer, tools/infer.py, ONNX export, the runtimes) without a line changed in visionkit's deploy/, tools/
or visualization code."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from mmengine.config import Config
from PIL import Image

from tests.tools.run_tool import load_tool
from visionkit.apis import inference_model, init_model
from visionkit.deploy import export_onnx, runtime_names
from visionkit.outputs import agreement_counts, agreement_ratios, outputs_predicted_in
from visionkit.structures import DataSample
from visionkit.visualization import draw_ground_truth, draw_ground_truth_and_prediction, draw_prediction

from . import toy_extension
from .toy_extension import ColourOutputs

SIZE = 32
CONFIG = dict(
    default_scope="visionkit",
    custom_imports=dict(imports=["tests.extending.toy_extension"], allow_failed_imports=False),
    model=dict(
        type="ColourRegressor",
        backbone=dict(type="TinyBackbone", width=8),
        head=dict(type="ColourHead"),
        data_preprocessor=dict(type="ImgDataPreprocessor", mean=[127.5] * 3, std=[127.5] * 3),
    ),
    test_dataloader=dict(
        dataset=dict(
            pipeline=[
                dict(type="LoadImage"),
                dict(type="Albumentations", transforms=[dict(type="Resize", height=SIZE, width=SIZE)]),
                dict(type="PackInputs"),
            ]
        )
    ),
)


def photos(tmp_path) -> list:
    """Two flat photos of different colours (so a model's outputs can differ on them) with a little noise."""
    rng = np.random.default_rng(0)
    paths = []
    for index, colour in enumerate([(200, 40, 40), (30, 60, 220)]):
        pixels = np.clip(np.array(colour) + rng.integers(-20, 20, (48, 64, 3)), 0, 255).astype(np.uint8)
        paths.append(tmp_path / f"photo{index}.png")
        Image.fromarray(pixels).save(paths[-1])
    return paths


def trained_model() -> torch.nn.Module:
    """The toy model after a few steps on flat images of random colours, so its output follows its input."""
    torch.manual_seed(0)
    model = init_model(Config(CONFIG))
    colours = torch.randint(0, 256, (16, 3), dtype=torch.uint8)
    images = [colour.view(3, 1, 1).expand(3, SIZE, SIZE).clone() for colour in colours]
    samples = [DataSample() for _ in colours]
    for sample, colour in zip(samples, colours, strict=True):
        sample.gt_colour = colour.float()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model.train()
    for _ in range(60):
        data = model.data_preprocessor({"inputs": images, "data_samples": samples}, True)
        loss = model(**data, mode="loss")["loss_colour"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def test_the_backbone_taps_size_the_head_and_the_task_trains():
    model = trained_model()
    assert model.in_taps == ("c2",) and model.head.fc.in_features == 16  # TinyBackbone(width=8): c2 has 16
    with torch.no_grad():
        taps = model.backbone(torch.zeros(1, 3, SIZE, SIZE))
    assert list(taps) == ["c2"] and taps["c2"].shape == (1, 16, SIZE // 4, SIZE // 4)
    with torch.no_grad():
        bright, dark = model(
            torch.stack([torch.full((3, SIZE, SIZE), 0.6), torch.full((3, SIZE, SIZE), -1.0)])
        )
    assert bright.mean() > 150 and dark.mean() < 80  # it learnt: the output follows the (normalised) input


def test_the_task_is_drawn_listed_and_compared_by_its_own_outputs(tmp_path):
    sample = DataSample(metainfo=dict(img_shape=(48, 64), ori_shape=(48, 64)))
    sample.gt_colour, sample.pred_colour = torch.tensor([200.0, 40, 40]), torch.tensor([190.0, 50, 45])
    assert [type(outputs) for outputs in outputs_predicted_in(sample)] == [ColourOutputs]
    image = np.full((48, 64, 3), 128, np.uint8)
    for drawn, colour in (
        (draw_ground_truth(image, sample, classes=[]), (200, 40, 40)),
        (draw_prediction(image, sample, classes=[]), (190, 50, 45)),
    ):
        assert (drawn[:48, :64] == 128).all() and drawn.shape[1] > 64  # the photo, a caption beside it
        assert (drawn[:, 64:] == colour).all(axis=2).any()  # with a swatch of the colour
    assert draw_ground_truth_and_prediction(image, sample, classes=[]).shape[1] > 2 * 64 + 8
    infer = load_tool("infer")
    view = toy_extension.View()
    Image.fromarray(image).save(tmp_path / "photo.png")
    record = infer.write_outputs(tmp_path / "photo.png", tmp_path / "out" / "photo", sample, view)
    assert record["colour"] == {"rgb": [190.0, 50.0, 45.0]}
    assert infer.summarize(sample, record, view) == "mean colour 190, 50, 45"
    other = sample.clone()
    other.pred_colour = torch.tensor([120.0, 50, 45])
    counts = agreement_counts([sample, sample], [sample, other])
    assert counts == {"colours_close": 1, "colour_images": 2}
    assert agreement_ratios(counts) == {"colour_agreement": 0.5}


@pytest.mark.slow
def test_the_task_exports_and_both_runtimes_give_the_eager_colours(tmp_path):
    assert "onnx-reference" in runtime_names()
    model = trained_model()
    path = tmp_path / "colour.onnx"
    export_onnx(model, path, (SIZE, SIZE))
    images = photos(tmp_path)
    expected = [sample.pred_colour for sample in inference_model(model, images)]
    assert (expected[0] - expected[1]).abs().max() > 20  # the outputs depend on the input
    for runtime in ("onnxruntime", "onnx-reference"):
        runner = init_model(Config(CONFIG), str(path), runtime=runtime)
        got = [sample.pred_colour for sample in inference_model(runner, images)]
        for colour, reference in zip(got, expected, strict=True):
            torch.testing.assert_close(colour, reference, atol=1e-3, rtol=1e-4)


@pytest.mark.slow
def test_the_infer_tool_runs_the_task_from_a_config_in_the_new_runtime(tmp_path, capsys):
    model = trained_model()
    export_onnx(model, tmp_path / "colour.onnx", (SIZE, SIZE))
    config = tmp_path / "colour_toy.py"
    config.write_text("\n".join(f"{key} = {value!r}" for key, value in CONFIG.items()) + "\n")
    folder = tmp_path / "photos"
    folder.mkdir()
    photos(folder)
    argv = [str(config), str(tmp_path / "colour.onnx"), str(folder), "--out-dir", str(tmp_path / "out")]
    load_tool("infer").main([*argv, "--runtime", "onnx-reference"])
    records = json.loads((tmp_path / "out" / "predictions.json").read_text())
    assert [sorted(record) for record in records] == [["colour", "image"]] * 2
    assert "mean colour" in capsys.readouterr().out
