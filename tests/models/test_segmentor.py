"""Segmentor: wiring, test-time modes (whole / slide / multi-scale + flip) and a short overfit run."""

from pathlib import Path

import pytest
import torch
import torchvision
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper

from visionkit.datasets import VOCSegmentation
from visionkit.datasets.toy_data import make_voc_segmentation_set
from visionkit.datasets.toy_data.voc import VOC_CLASSES as TOY_VOC_CLASSES
from visionkit.datasets.transforms import LoadImage, LoadSegMap, PackInputs
from visionkit.evaluation import IoUMetric
from visionkit.models import Segmentor
from visionkit.models.tasks.segmentor import _window_starts
from visionkit.structures import DataSample

OVERFIT_STEPS = 80
PREPROCESSOR = dict(type="ImgDataPreprocessor", mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])


def build(test_cfg: dict | None = None, **backbone: object) -> Segmentor:
    backbone = dict(type="MobileNetV2", output_stride=16) | backbone
    return Segmentor(
        backbone=backbone,
        decode_head=dict(type="ASPPHead", num_classes=4, dilations=()),
        data_preprocessor=PREPROCESSOR,
        test_cfg=test_cfg,
    )


def _batch(shapes: list[tuple[int, int]], ori_shapes: list[tuple[int, int]]) -> dict:
    inputs = [torch.randint(0, 256, (3, *shape), dtype=torch.uint8) for shape in shapes]
    samples = [
        DataSample(
            metainfo={"img_shape": shape, "ori_shape": ori}, gt_seg_map=torch.zeros(shape, dtype=torch.long)
        )
        for shape, ori in zip(shapes, ori_shapes, strict=True)
    ]
    return {"inputs": inputs, "data_samples": samples}


@pytest.mark.parametrize(
    "test_cfg",
    [
        None,
        dict(mode="slide", crop_size=(48, 48), stride=(32, 32)),
        dict(scales=(0.5, 1.0, 1.5), flip=True),
        dict(
            mode="slide", crop_size=(48, 48), stride=(32, 32), scales=(0.75, 1.0), flip=True, with_logits=True
        ),
    ],
)
def test_predictions_have_the_original_size(test_cfg: dict | None) -> None:
    model = build(test_cfg).eval()
    # two images of different sizes (padded into one batch); the second was resized by its pipeline
    batch = _batch([(70, 90), (64, 50)], ori_shapes=[(70, 90), (128, 100)])
    with torch.no_grad():
        samples = model.test_step(batch)
    for sample, ori in zip(samples, [(70, 90), (128, 100)], strict=True):
        assert sample.pred_seg_map.shape == ori and sample.pred_seg_map.dtype == torch.int64
        assert sample.batch_input_shape == sample.img_shape  # predicted unpadded (image_shape_groups)
        if test_cfg and test_cfg.get("with_logits"):
            assert sample.seg_logits.shape == (4, *ori)


def test_slide_windows_cover_the_image_and_match_whole_for_one_window() -> None:
    assert _window_starts(10, 4, 3) == [0, 3, 6]
    assert _window_starts(10, 4, 6) == [0, 6]
    assert _window_starts(3, 4, 2) == [0]
    inputs = torch.randn(1, 3, 40, 56)
    whole, slide = build().eval(), build(dict(mode="slide", crop_size=(64, 64), stride=(32, 32))).eval()
    slide.load_state_dict(whole.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(slide.combined_scores(inputs), whole.combined_scores(inputs))


def test_flip_scores_are_mirrored() -> None:
    model = build(dict(flip=True)).eval()
    inputs = torch.randn(1, 3, 48, 64)
    with torch.no_grad():
        torch.testing.assert_close(
            model.combined_scores(inputs.flip(-1)), model.combined_scores(inputs).flip(-1)
        )


def test_loss_keys_with_auxiliary_head() -> None:
    model = Segmentor(
        backbone=dict(type="MobileNetV2", output_stride=16),
        decode_head=dict(type="ASPPHead", num_classes=4, dilations=()),
        auxiliary_head=dict(type="FCNHead", num_classes=4, in_taps=("layer14",), channels=32),
        data_preprocessor=PREPROCESSOR,
    )
    assert model.auxiliary_head.conv.conv.in_channels == 96
    assert model.decode_head.branches[0].conv.in_channels == 320
    data = model.data_preprocessor(_batch([(64, 64), (48, 64)], [(64, 64), (48, 64)]), training=True)
    losses = model(**data, mode="loss")
    assert set(losses) == {"decode.loss_ce", "aux.loss_ce"}
    assert model(data["inputs"], mode="tensor").shape == (2, 4, 4, 4)


def test_backbone_returns_the_taps_the_heads_read_and_out_taps_is_refused() -> None:
    assert build().backbone.out_taps == ("layer18",)
    with pytest.raises(ValueError, match=r"remove backbone.out_taps"):
        build(out_taps=("layer14",))
    with pytest.raises(ValueError, match=r"\['layer99'\].*available: layer1, layer2"):
        Segmentor(
            backbone=dict(type="MobileNetV2"),
            decode_head=dict(type="ASPPHead", num_classes=4, in_taps=("layer99",)),
        )


def test_unused_final_conv_is_not_built_and_torchvision_weights_load(tmp_path: Path) -> None:
    assert build().backbone.final_conv is None
    final = Segmentor(
        backbone=dict(type="MobileNetV2"),
        decode_head=dict(type="ASPPHead", num_classes=4, in_taps=("final",)),
    )
    assert final.backbone.final_conv is not None
    reference = torchvision.models.mobilenet_v2()
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(reference.state_dict(), path)
    pretrained = build(init_cfg=dict(type="Pretrained", checkpoint=str(path)))
    pretrained.init_weights()
    torch.testing.assert_close(pretrained.backbone.stem.conv.weight, reference.features[0][0].weight)


def test_unknown_test_cfg_key_is_an_error() -> None:
    with pytest.raises(ValueError, match="Unknown Segmentor test_cfg keys"):
        build(dict(mode="whole", flips=True))


@pytest.mark.slow
def test_overfits_a_few_toy_images(tmp_path: Path) -> None:
    torch.manual_seed(0)
    toy = make_voc_segmentation_set(tmp_path, num_train=4, num_val=1, image_size=96, seed=1)
    dataset = VOCSegmentation(
        data_root=str(toy["data_root"]),
        metainfo=dict(classes=TOY_VOC_CLASSES),
        pipeline=[LoadImage(), LoadSegMap(), PackInputs()],
    )
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    model = Segmentor(
        backbone=dict(type="MobileNetV2", output_stride=8),
        decode_head=dict(type="ASPPHead", num_classes=len(TOY_VOC_CLASSES), dilations=(), dropout=0.0),
        data_preprocessor=PREPROCESSOR,
    )
    optim = OptimWrapper(torch.optim.AdamW(model.parameters(), lr=3e-3))
    for _ in range(OVERFIT_STEPS):
        model.train_step(batch, optim)
    metric = IoUMetric()
    metric.dataset_meta = dataset.metainfo
    with torch.no_grad():
        predictions = model.eval().test_step(batch)
    metric.process(batch, [sample.to_dict() for sample in predictions])
    results = metric.compute_metrics(metric.results)
    assert results["mIoU"] >= 90.0, results
