"""Segmentor test-time options against hand-built expectations: sliding-window averaging, multi-scale
probability averaging, and cropping the padding before resizing to the original image."""

import pytest
import torch
import torch.nn.functional as F

from tests.bn_statistics import assert_depends_on_input, calibrate_batchnorm
from visionkit.models import Segmentor
from visionkit.models.heads.seg_head import seg_logits_to_samples
from visionkit.structures import DataSample


def build(test_cfg: dict | None = None) -> Segmentor:
    torch.manual_seed(0)
    model = Segmentor(
        backbone=dict(type="MobileNetV2", widen_factor=0.35, output_stride=16),
        decode_head=dict(type="ASPPHead", num_classes=3, dilations=(), channels=16),
        test_cfg=test_cfg,
    )
    return calibrate_batchnorm(model, (64, 64))


def logits_at_input_size(model: Segmentor, images: torch.Tensor) -> torch.Tensor:
    logits = model(images, mode="tensor")
    return F.interpolate(logits, size=images.shape[-2:], mode="bilinear", align_corners=False)


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(2, 3, 40, 80, generator=torch.Generator().manual_seed(1))


def test_sliding_windows_average_where_they_overlap(images):
    """crop 40x48, stride 32 on 40x80: windows at x 0..48 and 32..80, averaged over x 32..48."""
    model = build(dict(mode="slide", crop_size=(40, 48), stride=(32, 32)))
    with torch.no_grad():
        left = logits_at_input_size(model, images[..., :48])
        right = logits_at_input_size(model, images[..., 32:])
        got = model.combined_scores(images)
    assert_depends_on_input(left[0], left[1])
    expected = torch.cat([left[..., :32], (left[..., 32:] + right[..., :16]) / 2, right[..., 16:]], dim=-1)
    torch.testing.assert_close(got, expected)


def test_sliding_windows_move_down_the_rows_too(images):
    """crop 24x80, stride 16 on 40x80: windows at y 0..24 and 16..40, averaged over y 16..24."""
    model = build(dict(mode="slide", crop_size=(24, 80), stride=(16, 16)))
    with torch.no_grad():
        top = logits_at_input_size(model, images[..., :24, :])
        bottom = logits_at_input_size(model, images[..., 16:, :])
        got = model.combined_scores(images)
    expected = torch.cat(
        [top[..., :16, :], (top[..., 16:, :] + bottom[..., :8, :]) / 2, bottom[..., 8:, :]], dim=-2
    )
    torch.testing.assert_close(got, expected)


def test_multi_scale_and_flip_average_softmax_of_each_pass(images):
    model = build(dict(scales=(0.5, 1.0), flip=True))
    with torch.no_grad():
        half = F.interpolate(images, size=(20, 40), mode="bilinear", align_corners=False)
        half_passes = [logits_at_input_size(model, half), logits_at_input_size(model, half.flip(-1)).flip(-1)]
        passes = [
            logits_at_input_size(model, images),
            logits_at_input_size(model, images.flip(-1)).flip(-1),
            *(F.interpolate(p, size=(40, 80), mode="bilinear") for p in half_passes),
        ]
        got = model.combined_scores(images)
    expected = sum(p.softmax(dim=1) for p in passes) / 4
    assert (expected - passes[0].softmax(dim=1)).abs().max() > 1e-3  # the scales change the result
    torch.testing.assert_close(got, expected)


def test_padding_is_cropped_before_resizing_to_the_original_size():
    """A 4x6 image padded to 8x8, shown at 8x12: the padding (class 1 everywhere) must not reach it."""
    logits = torch.zeros(1, 2, 8, 8)
    logits[:, 0, :4, :6] = 1.0  # the image: class 0
    logits[:, 1] = 1.0 - logits[:, 0]  # the padding: class 1
    logits[:, 1, :4, :6] = 0.0
    sample = DataSample(metainfo=dict(img_shape=(4, 6), ori_shape=(8, 12)))
    (result,) = seg_logits_to_samples(logits, [sample], with_logits=True)
    assert result.pred_seg_map.shape == (8, 12) and (result.pred_seg_map == 0).all()
    torch.testing.assert_close(result.seg_logits[:, 0, 0], torch.tensor([1.0, 0.0]))


def test_seg_maps_are_padded_bottom_right_to_a_non_square_input():
    from visionkit.models.heads.seg_head import stack_seg_maps

    sample = DataSample(gt_seg_map=torch.tensor([[1, 2]]))
    stacked = stack_seg_maps([sample], (3, 5), ignore_index=255)
    assert stacked.tolist() == [[[1, 2, 255, 255, 255], [255] * 5, [255] * 5]]


def test_test_cfg_defaults_and_slide_needs_both_sizes():
    model = build()
    assert model.test_cfg == dict(
        mode="whole", crop_size=None, stride=None, scales=(1.0,), flip=False, with_logits=False
    )
    for partial in (dict(crop_size=(32, 32)), dict(stride=(16, 16))):
        with pytest.raises(ValueError, match=r"mode='slide' needs crop_size=\(H, W\) and stride=\(H, W\)"):
            build(dict(mode="slide", **partial))


def test_predict_from_taps_is_the_single_pass_only(images):
    """What a multi-task model calls: the whole-image pass from computed taps, the same map as predict."""
    model = build()
    samples = [DataSample(metainfo=dict(batch_input_shape=(40, 80))) for _ in range(2)]
    with torch.no_grad():
        taps = model.backbone(images)
        from_taps = model.forward_taps(taps, samples, "predict")
        expected = logits_at_input_size(model, images).argmax(dim=1)
    for sample, labels in zip(from_taps, expected, strict=True):
        assert torch.equal(sample.pred_seg_map, labels)
    with pytest.raises(ValueError, match="needs the whole model"):
        build(dict(flip=True)).forward_taps(taps, samples, "predict")


def test_export_head_gives_the_eager_logits_and_their_argmax_at_the_input_size(images):
    """What an exported graph computes after the backbone, run eagerly: the single pass's logits at the
    input size (40x80, not square) and their argmax."""
    model = build()
    with torch.no_grad():
        logits, labels = model.export_head()(model.backbone(images), images)
        expected = logits_at_input_size(model, images)
    torch.testing.assert_close(logits, expected)
    assert torch.equal(labels, expected.argmax(dim=1))
