import pytest
import torch
from torch import nn

from visionkit.models import MobileNetV2, MobileNetV3
from visionkit.models.layers import InvertedResidual, make_divisible


@pytest.mark.parametrize(
    "value, expected",
    [(32 * 0.35, 16), (16 * 0.35, 8), (24 * 1.4, 32), (96 * 0.75, 72), (1280 * 1.4, 1792), (32, 32)],
)
def test_make_divisible(value, expected):
    assert make_divisible(value) == expected


def test_paper_table2_channels_and_strides():
    backbone = MobileNetV2(out_taps=("final",))
    stage_ends = {
        "layer2": (16, 2),
        "layer4": (24, 4),
        "layer7": (32, 8),
        "layer11": (64, 16),
        "layer14": (96, 16),
        "layer17": (160, 32),
        "layer18": (320, 32),
        "final": (1280, 32),
        "layer19": (1280, 32),
        "layer1": (32, 2),
    }
    for name, (channels, stride) in stage_ends.items():
        assert (backbone.tap_channels(name), backbone.tap_stride(name)) == (channels, stride), name
    assert (backbone.tap_channels("layer15_expansion"), backbone.tap_stride("layer15_expansion")) == (576, 16)
    assert len(backbone.blocks) == 17


def test_forward_returns_requested_taps_with_matching_shapes():
    taps = ("layer15_expansion", "final", "layer18", "layer4")
    backbone = MobileNetV2(out_taps=taps).eval()
    feats = backbone(torch.randn(2, 3, 320, 320))
    assert list(feats) == list(taps)
    for name, feat in feats.items():
        stride = backbone.tap_stride(name)
        assert feat.shape == (2, backbone.tap_channels(name), 320 // stride, 320 // stride), name
    assert feats["layer15_expansion"].shape == (2, 576, 20, 20)
    assert feats["final"].shape == (2, 1280, 10, 10)


def test_layer15_expansion_is_expand_activation_of_first_160_block():
    backbone = MobileNetV2(out_taps=("layer15_expansion", "layer14")).eval()
    feats = backbone(torch.randn(1, 3, 224, 224))
    block = backbone.blocks[13]  # layer 15 = blocks[15 - 2]
    assert block.out_channels == 160 and block.depthwise.conv.stride == (2, 2)
    torch.testing.assert_close(feats["layer15_expansion"], block.expand(feats["layer14"]))


@pytest.mark.parametrize("width, channels", [(0.35, (16, 1280)), (1.4, (48, 1792)), (0.5, (16, 1280))])
def test_width_multiplier(width, channels):
    backbone = MobileNetV2(widen_factor=width)
    assert backbone.tap_channels("layer1") == channels[0]
    assert backbone.tap_channels("final") == channels[1]


@pytest.mark.parametrize("output_stride", [32, 16, 8])
def test_output_stride_by_dilation(output_stride):
    backbone = MobileNetV2(output_stride=output_stride, out_taps=("layer18", "final")).eval()
    feats = backbone(torch.randn(1, 3, 256, 256))
    assert feats["layer18"].shape[-1] == 256 // output_stride
    assert backbone.tap_stride("layer18") == output_stride
    dilations = [b.depthwise.conv.dilation[0] for b in backbone.blocks]
    strides = [b.depthwise.conv.stride[0] for b in backbone.blocks]
    expected = {
        32: ([1] * 17, [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 2, 1, 1, 1]),
        # TF slim: the block reaching the output stride keeps rate 1, the ones after it get 2.
        16: ([1] * 14 + [2, 2, 2], [1, 2, 1, 2, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
        8: ([1] * 7 + [2] * 6 + [2, 4, 4, 4], [1, 2, 1, 2, 1, 1] + [1] * 11),
    }
    assert (dilations, strides) == expected[output_stride]


def test_output_stride_keeps_parameters():
    counts = {os: sum(p.numel() for p in MobileNetV2(output_stride=os).parameters()) for os in (32, 16, 8)}
    assert len(set(counts.values())) == 1


def test_unknown_tap_lists_available():
    with pytest.raises(ValueError, match="layer15_expansion"):
        MobileNetV2(out_taps=("layer99",))


def test_frozen_stages_and_norm_eval():
    backbone = MobileNetV2(frozen_stages=2, norm_eval=True)
    backbone.train()
    assert not any(p.requires_grad for p in backbone.stem.parameters())
    assert not any(p.requires_grad for p in backbone.blocks[2].parameters())  # layer4, stage 2
    assert all(p.requires_grad for p in backbone.blocks[3].parameters())  # layer5, stage 3
    assert all(not m.training for m in backbone.modules() if isinstance(m, nn.BatchNorm2d))


def test_frozen_stages_from_random_init_warn_and_from_a_checkpoint_do_not(tmp_path, recwarn):
    frozen = MobileNetV2(widen_factor=0.5, frozen_stages=2)
    with pytest.warns(UserWarning, match="frozen_stages=2 without a pretrained checkpoint"):
        frozen.init_weights()
    checkpoint = tmp_path / "backbone.pth"
    torch.save({"state_dict": MobileNetV2(widen_factor=0.5).state_dict()}, checkpoint)
    recwarn.clear()
    for model in (
        MobileNetV2(
            widen_factor=0.5, frozen_stages=2, init_cfg=dict(type="Pretrained", checkpoint=str(checkpoint))
        ),
        MobileNetV2(widen_factor=0.5),
    ):
        model.init_weights()
    assert not [w for w in recwarn if "frozen_stages" in str(w.message)]


def test_inverted_residual_shortcut_and_linear_bottleneck():
    block = InvertedResidual(24, 24, 1, 6)
    assert block.use_shortcut and block.hidden_channels == 144
    assert isinstance(block.project.act, nn.Identity)  # no activation after the projection
    assert not InvertedResidual(24, 32, 1, 6).use_shortcut
    assert not InvertedResidual(24, 24, 2, 6).use_shortcut
    assert InvertedResidual(32, 16, 1, 1).expand is None


@pytest.mark.parametrize("backbone", [MobileNetV2, MobileNetV3])
def test_zero_init_residual_starts_every_residual_block_as_the_identity(backbone):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 64, 64)
    for zero_init in (True, False, None):  # None: the default, off as in torchvision
        options = {} if zero_init is None else dict(zero_init_residual=zero_init)
        model = backbone(widen_factor=0.5, **options).eval()
        model.init_weights()
        residual = [block for block in model.blocks if block.use_shortcut]
        assert residual
        with torch.no_grad():
            h = model.stem(x)
            for block in model.blocks:
                out = block(h)
                if block.use_shortcut:
                    assert torch.equal(out, h) == bool(zero_init)
                h = out


def test_zero_init_residual_leaves_a_loaded_checkpoint_alone(tmp_path):
    source = MobileNetV2(widen_factor=0.5)
    source.init_weights()
    path = tmp_path / "backbone.pth"
    torch.save({"state_dict": source.state_dict()}, path)
    model = MobileNetV2(
        widen_factor=0.5, zero_init_residual=True, init_cfg=dict(type="Pretrained", checkpoint=str(path))
    )
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_tap_table_defaults_are_the_paper_network_without_building_it():
    """What configs size heads from before any backbone exists: the default table is width 1.0, stride 32."""
    table = MobileNetV2.tap_table()
    assert table == MobileNetV2().taps
    assert (table["layer15_expansion"].channels, table["layer15_expansion"].stride) == (576, 16)
    assert (table["final"].channels, table["final"].stride) == (1280, 32)


def test_stage_repeats_and_fixed_stem_and_final_widths():
    """timm's mobilenetv2_120d: width 1.2, repeats (1, 3, 5, 6, 5, 5, 1) = 26 blocks, so the final conv is
    layer 28; stem 32 and final 1280 where the width would give 40 and 1536."""
    repeats = (1, 3, 5, 6, 5, 5, 1)
    taps = MobileNetV2.tap_table(
        widen_factor=1.2, stage_repeats=repeats, stem_channels=32, final_channels=1280
    )
    assert taps["layer1"].channels == 32 and taps["final"] == taps["layer28"] == (1280, 32)
    assert "layer29" not in taps and taps["layer27"].channels == make_divisible(320 * 1.2)
    default = MobileNetV2.tap_table(widen_factor=1.2)
    assert default["layer1"].channels == 40 and default["final"].channels == 1536
    model = MobileNetV2(widen_factor=1.2, stage_repeats=repeats, stem_channels=32, final_channels=1280)
    assert len(model.blocks) == 26 and model.stage_of_block.count(4) == 6
    out = model.eval()(torch.randn(1, 3, 64, 64))
    assert out["final"].shape == (1, 1280, 2, 2)


def test_expand_first_block_and_floor_widths():
    """PaddleClas's layout at x0.5: the t=1 block expands 16 -> 16 channels; widths int(c * 0.5)."""
    model = MobileNetV2(
        widen_factor=0.5,
        width_rounding="floor",
        expand_first_block=True,
        out_taps=("layer2_expansion", "layer4"),
    )
    assert model.blocks[0].expand.conv.weight.shape == (16, 16, 1, 1)
    assert model.blocks[2].project.conv.out_channels == 12  # int(24 * 0.5); TF slim's rounding gives 16
    out = model.eval()(torch.randn(1, 3, 64, 64))
    assert out["layer2_expansion"].shape == (1, 16, 32, 32) and out["layer4"].shape == (1, 12, 16, 16)
    assert MobileNetV2(widen_factor=0.5).blocks[0].expand is None
    # x1.5: every block's output int(c * 1.5) of Table 2's c (16, 24 x2, 32 x3, 64 x4, 96 x3, 160 x3, 320),
    # stem int(32 * 1.5), final conv int(1280 * 1.5)
    table = MobileNetV2.tap_table(widen_factor=1.5, width_rounding="floor")
    blocks = [table[f"layer{i}"].channels for i in range(2, 19)]
    assert blocks == [24] + [36] * 2 + [48] * 3 + [96] * 4 + [144] * 3 + [240] * 3 + [480]
    assert (table["layer1"].channels, table["final"].channels) == (48, 1920)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(width_rounding="round"), "width_rounding must be one of divisible, floor, got 'round'"),
        (dict(stage_repeats=(1, 2, 3)), r"stage_repeats must be 7 ints >= 1"),
        (dict(stage_repeats=(1, 2, 3, 4, 3, 3, 0)), r"stage_repeats must be 7 ints >= 1"),
    ],
)
def test_bad_layout_options_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MobileNetV2(**kwargs)
