"""A prediction must not depend on what else is in the batch, for every task model.

Each image is predicted alone and inside a batch of differently sized images, which the data
preprocessor pads to the largest (bottom/right). Discrete outputs (classes, masks, box labels) must be
identical; scores and box coordinates may differ only by float rounding (convolution kernels sum in
a batch-size dependent order, as cuDNN's do), far below anything a metric sees.
"""

from pathlib import Path

import pytest
import torch

from visionkit.models.tasks import Segmentor
from visionkit.structures import DataSample

from ..lively_models import lively_model, shape_images

REPO = Path(__file__).resolve().parents[2]
CONFIGS = {
    "classification": REPO / "tests/tools/dist_configs/mobilenet_v2_tiny.py",
    "detection": REPO / "tests/tools/dist_configs/ssdlite_tiny.py",
    "segmentation": REPO / "tests/tools/dist_configs/deeplabv3lite_tiny.py",
    "multi-task": REPO / "configs/multitask_mnv2_toy.py",
}
SIZES = [(72, 96), (96, 64), (72, 96), (56, 48)]
TOLERANCE = dict(rtol=1e-4, atol=1e-4)


def _model(name: str) -> torch.nn.Module:
    model = lively_model(CONFIGS[name])
    for module in model.modules():  # compare the scores too, not only their arg-max
        if isinstance(module, Segmentor):
            module.test_cfg["with_logits"] = True
    return model


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


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_prediction_alone_equals_prediction_in_a_padded_batch(name: str) -> None:
    model = _model(name)
    images = shape_images(SIZES)
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


def test_prediction_alone_equals_prediction_in_a_batch_padded_to_a_size_divisor() -> None:
    """Alone, an image is padded to the preprocessor's pad_size_divisor; in a batch it must see the same."""
    model = _model("segmentation")
    model.data_preprocessor.pad_size_divisor = 32
    images = shape_images(SIZES)
    alone = [_predict(model, [image])[0] for image in images]
    in_batch = _predict(model, images)
    assert alone[0].batch_input_shape == (96, 96)  # 72x96 padded to multiples of 32
    for one, other in zip(alone, in_batch, strict=True):
        _assert_same(one, other)
