"""DeepLabv3 ASPP / FCN heads, the dilated backbone under them, and Table 7's model sizes."""

import pytest
import torch

from visionkit.analysis.complexity import count_complexity
from visionkit.models import ASPPHead, FCNHead, MobileNetV2, Segmentor
from visionkit.structures import DataSample


def _feats(n: int = 2, channels: int = 320, size: int = 8) -> dict[str, torch.Tensor]:
    return {"layer18": torch.randn(n, channels, size, size)}


def _samples(n: int, gt: torch.Tensor, input_shape: tuple[int, int]) -> list[DataSample]:
    return [DataSample(metainfo={"batch_input_shape": input_shape}, gt_seg_map=gt.clone()) for _ in range(n)]


def test_output_stride_16_and_8_feature_sizes_and_same_parameters() -> None:
    sizes, params = {}, {}
    for output_stride in (16, 8):
        backbone = MobileNetV2(output_stride=output_stride, out_taps=("layer18",)).eval()
        with torch.no_grad():
            sizes[output_stride] = backbone(torch.zeros(1, 3, 64, 96))["layer18"].shape
        params[output_stride] = sum(p.numel() for p in backbone.parameters())
        assert backbone.tap_stride("layer18") == output_stride
    assert sizes[16] == (1, 320, 4, 6) and sizes[8] == (1, 320, 8, 12)
    assert params[16] == params[8]


@pytest.mark.parametrize(
    "output_stride, expected",
    # (layer, stride, dilation) of depthwise convs: the block that would pass the output stride keeps
    # stride 1 at the current rate; the rate is multiplied for the blocks after it.
    [
        (16, [(14, 1, 1), (15, 1, 1), (16, 1, 2), (18, 1, 2)]),
        (8, [(5, 2, 1), (8, 1, 1), (9, 1, 2), (14, 1, 2), (15, 1, 2), (16, 1, 4), (18, 1, 4)]),
    ],
)
def test_dilation_replaces_stride(output_stride: int, expected: list[tuple[int, int, int]]) -> None:
    backbone = MobileNetV2(output_stride=output_stride, out_taps=("layer18",))
    for layer, stride, dilation in expected:
        conv = backbone.blocks[layer - 2].depthwise.conv
        assert (conv.stride, conv.dilation) == ((stride, stride), (dilation, dilation)), layer


def test_aspp_branches_follow_dilations() -> None:
    full = ASPPHead((320,), 21)  # DeepLabv3's rates at output stride 16 are the default
    atrous = [b.conv for b in full.branches[1:4]]
    assert [c.dilation for c in atrous] == [(6, 6), (12, 12), (18, 18)]
    assert [c.padding for c in atrous] == [(6, 6), (12, 12), (18, 18)]
    assert len(full.branches) == 5 and full.project.conv.in_channels == 5 * 256
    lite = ASPPHead((320,), 21, dilations=())
    assert len(lite.branches) == 2 and lite.project.conv.in_channels == 2 * 256


@pytest.mark.parametrize("dilations", [(), (6, 12, 18)])
def test_forward_gives_logits_at_tap_resolution(dilations: tuple[int, ...]) -> None:
    head = ASPPHead((320,), 21, dilations=dilations)
    assert head(_feats(2, size=9)).shape == (2, 21, 9, 9)


def test_image_pooling_needs_two_images_in_training() -> None:
    head = ASPPHead((320,), 21, dilations=()).train()
    with pytest.raises(ValueError, match="at least 2 images"):
        head(_feats(1))
    assert head.eval()(_feats(1)).shape == (1, 21, 8, 8)


def test_loss_is_zero_when_every_pixel_is_ignored() -> None:
    head = ASPPHead((320,), 21, dilations=())
    samples = _samples(2, torch.full((64, 64), 255), (64, 64))
    loss = head.loss(_feats(), samples)["loss_ce"]
    assert float(loss.detach()) == 0.0 and loss.requires_grad


def test_loss_pads_smaller_maps_with_ignore_and_weights_classes() -> None:
    torch.manual_seed(0)
    feats = _feats()
    head = ASPPHead((320,), 3, dilations=(), dropout=0.0).eval()
    padded = _samples(2, torch.ones(40, 50, dtype=torch.long), (64, 64))
    full = torch.full((64, 64), 255)
    full[:40, :50] = 1
    same = _samples(2, full, (64, 64))
    torch.testing.assert_close(head.loss(feats, padded)["loss_ce"], head.loss(feats, same)["loss_ce"])
    weighted = ASPPHead((320,), 3, dilations=(), dropout=0.0, class_weight=(1.0, 3.0, 1.0), loss_weight=0.5)
    weighted.load_state_dict(head.state_dict())
    # one class present: a class weight cancels in the weighted mean, the loss weight does not
    torch.testing.assert_close(
        weighted.eval().loss(feats, same)["loss_ce"], head.loss(feats, same)["loss_ce"] * 0.5
    )


def test_predict_crops_padding_and_resizes_to_original_size() -> None:
    head = ASPPHead((320,), 5, dilations=()).eval()
    sample = DataSample(
        metainfo={"batch_input_shape": (128, 128), "img_shape": (100, 120), "ori_shape": (50, 60)}
    )
    (out,) = head.predict(_feats(1), [sample], with_logits=True)
    assert out.pred_seg_map.shape == (50, 60) and out.pred_seg_map.dtype == torch.int64
    assert out.seg_logits.shape == (5, 50, 60)


def test_fcn_head_shapes_and_loss_weight() -> None:
    head = FCNHead((96,), 21)
    assert head.loss_weight == 0.4 and head.in_taps == ("layer14",)
    assert head({"layer14": torch.randn(2, 96, 8, 8)}).shape == (2, 21, 8, 8)


def _tensor_forward(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return model(x, mode="tensor")


@pytest.mark.parametrize(
    "dilations, params, madds_range",
    # MobileNetV2 paper Table 7 at output stride 16, 512x512, 21 classes: 2.11M / 2.75B without atrous
    # branches and 4.52M / 5.8B with ASPP. Parameters match to 0.2% (2,113,557 and 4,523,541). MAdds
    # come out lower (2.60B and 5.07B): TF DeepLab runs 513x513 inputs, i.e. 33x33 instead of 32x32
    # maps after output stride 16 (x1.063: 2.77B and 5.39B), and the paper's count presumably also
    # includes operations we leave out (resizing, pooling, BatchNorm; see visionkit.analysis.complexity).
    [((), 2.11e6, (2.45e9, 2.80e9)), ((6, 12, 18), 4.52e6, (4.8e9, 5.9e9))],
)
def test_table7_complexity(
    dilations: tuple[int, ...], params: float, madds_range: tuple[float, float]
) -> None:
    model = Segmentor(
        backbone=dict(type="MobileNetV2", output_stride=16),
        decode_head=dict(type="ASPPHead", num_classes=21, dilations=dilations),
    )
    report = count_complexity(model, torch.zeros(1, 3, 512, 512), forward=_tensor_forward)
    assert report.params == pytest.approx(params, rel=0.05)
    assert madds_range[0] <= report.madds <= madds_range[1]
