"""A prediction must not depend on what else is in the batch, for every task model.

Each image is predicted alone and inside a batch of differently sized images, which the data
preprocessor pads to the largest (bottom/right). Discrete outputs (classes, masks, box labels) must be
identical; scores and box coordinates may differ only by float rounding (convolution kernels sum in
a batch-size dependent order, as cuDNN's do), far below anything a metric sees.
"""

from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from visionkit.models.tasks import Segmentor
from visionkit.registry import MODELS
from visionkit.structures import DataSample

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {
    "classification": REPO / "tests/tools/dist_configs/mobilenet_v2_tiny.py",
    "detection": REPO / "tests/tools/dist_configs/ssdlite_tiny.py",
    "segmentation": REPO / "tests/tools/dist_configs/deeplabv3lite_tiny.py",
    "multi-task": REPO / "configs/multitask_mnv2_toy.py",
}
SIZES = [(72, 96), (96, 64), (72, 96), (56, 48)]
TOLERANCE = dict(rtol=1e-4, atol=1e-4)


def _images(seed: int = 0) -> list[torch.Tensor]:
    """uint8 (3, H, W) images with a bright square, so predictions depend on the content."""
    generator = torch.Generator().manual_seed(seed)
    images = []
    for height, width in SIZES:
        image = torch.randint(0, 120, (3, height, width), generator=generator, dtype=torch.uint8)
        top, left = int(torch.randint(0, height // 2, (1,), generator=generator)), width // 4
        image[:, top : top + height // 3, left : left + width // 3] = 230
        images.append(image)
    return images


def _model(name: str) -> torch.nn.Module:
    """The config's model with BatchNorm statistics measured on images (not the default 0 / 1)."""
    torch.manual_seed(0)
    cfg = Config.fromfile(str(CONFIGS[name]))
    model = MODELS.build(cfg.model)
    for module in model.modules():  # the heads' small default inits give near-constant outputs
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(module.weight)
    model.train()
    with torch.no_grad():
        for images in (_images(1), _images(2)):
            batch = model.data_preprocessor(dict(inputs=[im[:, :56, :48] for im in images]), training=True)
            model(batch["inputs"], mode="tensor")
    for module in model.modules():  # compare the scores too, not only their arg-max
        if isinstance(module, Segmentor):
            module.test_cfg["with_logits"] = True
    return model.eval()


def _predict(model: torch.nn.Module, images: list[torch.Tensor]) -> list[DataSample]:
    samples = []
    for image in images:
        sample = DataSample(metainfo=dict(img_shape=tuple(image.shape[1:]), ori_shape=tuple(image.shape[1:])))
        samples.append(sample)
    with torch.no_grad():
        batch = model.data_preprocessor(dict(inputs=images, data_samples=samples), training=False)
        return model(**batch, mode="predict")


def _assert_same(alone: DataSample, in_batch: DataSample) -> None:
    fields = [k for k in ("pred_label", "pred_seg_map", "pred_labels") if k in alone]
    for key in fields:
        assert torch.equal(torch.as_tensor(alone.get(key)), torch.as_tensor(in_batch.get(key))), key
    for key in ("pred_score", "pred_bboxes", "pred_scores", "seg_logits"):
        if key in alone:
            torch.testing.assert_close(in_batch.get(key), alone.get(key), **TOLERANCE)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_prediction_alone_equals_prediction_in_a_padded_batch(name: str) -> None:
    model = _model(name)
    images = _images()
    alone = [_predict(model, [image])[0] for image in images]
    # The comparison means something only if the model's output depends on its input.
    first, last = alone[0], alone[-1]
    if "pred_score" in first:
        assert (first.pred_score - last.pred_score).abs().max() > 1e-2
    if "seg_logits" in first:
        assert (first.seg_logits[:, :56, :48] - last.seg_logits[:, :56, :48]).abs().max() > 1e-2
    if "pred_scores" in first:
        assert (first.pred_scores[:5] - last.pred_scores[:5]).abs().max() > 1e-3
    in_batch = _predict(model, images)
    for index, (one, other) in enumerate(zip(alone, in_batch, strict=True)):
        assert other.metainfo["img_shape"] == SIZES[index]
        _assert_same(one, other)
