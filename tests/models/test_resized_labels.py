"""resized_labels: the argmax of bilinearly resized logits, mixed in full only at object borders, against a
hand-worked case and against F.interpolate + argmax on every pixel."""

import pytest
import torch
import torch.nn.functional as F

from visionkit.models.heads.seg_head import resized_labels, seg_logits_to_samples
from visionkit.structures import DataSample


def dense(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    resized = F.interpolate(logits[None], size=size, mode="bilinear", align_corners=False)[0]
    return resized.argmax(dim=0)


def test_a_border_cell_is_mixed_by_hand():
    """1x2 -> 1x4: source x = 0 (clamped), 0.25, 0.75, 1 (clamped). Class 0 scores 2, 1.5, 0.5, 0 there,
    class 1 scores 0, 0.25, 0.75, 1: labels 0 0 1 1, though the two source pixels' labels are 0 and 1."""
    logits = torch.tensor([[[2.0, 0.0]], [[0.0, 1.0]]])
    assert resized_labels(logits, (1, 4)).tolist() == [[0, 0, 1, 1]]


def test_cells_whose_corners_agree_take_their_label_without_mixing():
    """Class 1 leads at every source pixel, by margins that vary: every output pixel is class 1."""
    logits = torch.zeros(3, 5, 7)
    logits[1] = torch.rand(5, 7, generator=torch.Generator().manual_seed(0)) + 0.1
    assert (resized_labels(logits, (13, 4)) == 1).all()


@pytest.mark.parametrize("dense_above", [0.0, 0.05, 1.0], ids=["dense", "default", "cells"])
@pytest.mark.parametrize("smooth", [False, True], ids=["noise", "smooth"])
def test_same_labels_as_resizing_every_class(dense_above, smooth):
    """Upsizing, shrinking and both at once, 1 to 24 classes, 1-pixel sides: every label equal."""
    generator = torch.Generator().manual_seed(int(smooth))
    compared = 0
    for source, target, classes in [
        ((12, 12), (32, 32), 5),
        ((192, 192), (512, 512), 21),
        ((40, 30), (17, 75), 3),
        ((31, 57), (9, 13), 24),
        ((1, 9), (5, 20), 2),
        ((7, 1), (7, 3), 4),
        ((16, 16), (16, 16), 6),
        ((5, 5), (80, 80), 1),
    ]:
        if smooth:  # a segmenter's map: regions and borders, from a coarse grid upsampled
            coarse = torch.randn(1, classes, source[0] // 8 + 1, source[1] // 8 + 1, generator=generator)
            logits = F.interpolate(coarse * 3, size=source, mode="bilinear", align_corners=False)[0]
        else:
            logits = torch.randn(classes, *source, generator=generator)
        got = resized_labels(logits, target, dense_above=dense_above)
        assert got.dtype == torch.int64 and got.shape == target
        assert torch.equal(got, dense(logits, target)), (source, target, classes)
        compared += got.numel()
    assert compared > 270_000


def test_predictions_with_and_without_logits_agree():
    logits = F.interpolate(torch.randn(1, 4, 3, 3, generator=torch.Generator().manual_seed(2)), size=(24, 30))
    samples = [DataSample(metainfo=dict(img_shape=(20, 30), ori_shape=(50, 64))) for _ in range(2)]
    plain, with_logits = (
        seg_logits_to_samples(logits, samples[:1]),
        seg_logits_to_samples(logits, samples[1:], with_logits=True),
    )
    assert len(plain[0].pred_seg_map.unique()) > 1
    assert torch.equal(plain[0].pred_seg_map, with_logits[0].pred_seg_map)
    assert torch.equal(plain[0].pred_seg_map, dense(logits[0, :, :20], (50, 64)))
