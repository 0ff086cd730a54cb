"""SSDLite detector: extra layers, head, forward modes, prediction coordinates, complexity."""

import pytest
import torch
import torchvision
from mmengine.config import Config

from tests.analysis import hand_counts
from visionkit.analysis.complexity import count_complexity
from visionkit.models import SSDDetector, SSDLiteExtraLayers
from visionkit.models.box_ops import multiclass_nms, padded_multiclass_nms, rescale_boxes
from visionkit.models.heads.ssdlite_head import detections_to_samples
from visionkit.registry import MODELS
from visionkit.structures import DataSample

GENERATORS = {"tf": "TFSSDAnchorGenerator", "mmdet": "MMDetSSDAnchorGenerator"}


def build_detector(
    num_classes: int = 3, style: str = "tf", backbone_init_cfg: dict | None = None
) -> SSDDetector:
    return SSDDetector(
        backbone=dict(type="MobileNetV2", init_cfg=backbone_init_cfg),
        neck=dict(type="SSDLiteExtraLayers"),
        head=dict(type="SSDLiteHead", num_classes=num_classes),
        anchor_generator=dict(type=GENERATORS[style]),
    )


def detection_sample(boxes, labels, img_shape=(320, 320), ori_shape=(320, 320)) -> DataSample:
    sample = DataSample(metainfo=dict(img_shape=img_shape, ori_shape=ori_shape))
    sample.gt_bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
    sample.gt_labels = torch.tensor(labels, dtype=torch.int64)
    return sample


@pytest.fixture(scope="module")
def detector() -> SSDDetector:
    torch.manual_seed(0)
    return build_detector()


def test_extra_layers_shapes_and_width():
    neck = SSDLiteExtraLayers(1280).eval()
    outs = neck(torch.randn(1, 1280, 10, 10))
    assert [tuple(o.shape[1:]) for o in outs] == [(512, 5, 5), (256, 3, 3), (256, 2, 2), (128, 1, 1)]
    assert SSDLiteExtraLayers(1280, widen_factor=0.5).out_channels == [256, 128, 128, 64]
    block = neck.blocks[0]
    assert (
        block[0].conv.out_channels == 256 and block[1].conv.groups == 256 and block[1].conv.stride == (2, 2)
    )


def test_tensor_mode_shapes(detector):
    detector.eval()
    cls_scores, bbox_preds = detector(torch.randn(2, 3, 320, 320), mode="tensor")
    sizes = [20, 10, 5, 3, 2, 1]
    anchors = [3, 6, 6, 6, 6, 6]
    levels = list(zip(anchors, sizes, strict=True))
    assert [tuple(c.shape) for c in cls_scores] == [(2, a * (3 + 1), s, s) for a, s in levels]
    assert [tuple(b.shape) for b in bbox_preds] == [(2, a * 4, s, s) for a, s in levels]


def test_head_input_channels_come_from_backbone_and_neck(detector):
    assert [block[1].in_channels for block in detector.head.cls_convs] == [576, 1280, 512, 256, 256, 128]


def test_loss_and_backward(detector):
    detector.train()
    samples = [
        detection_sample([[20, 30, 120, 150], [90, 100, 180, 190]], [0, 2], img_shape=(192, 192)),
        detection_sample([], [], img_shape=(192, 192)),
    ]
    losses = detector(torch.randn(2, 3, 192, 192), samples, mode="loss")  # maps 12, 6, 3, 2, 1, 1
    assert set(losses) == {"loss_cls", "loss_bbox"}
    assert all(torch.isfinite(v) and v > 0 for v in losses.values())
    detector.zero_grad()
    sum(losses.values()).backward()
    assert sum(conv[1].weight.grad.abs().sum() for conv in detector.head.reg_convs) > 0
    assert detector.backbone.stem.conv.weight.grad.abs().sum() > 0


def test_empty_ground_truth_batch_gives_zero_box_loss(detector):
    detector.train()
    samples = [detection_sample([], [], img_shape=(192, 192)) for _ in range(2)]
    losses = detector(torch.randn(2, 3, 192, 192), samples, mode="loss")
    assert losses["loss_bbox"].item() == 0.0 and losses["loss_cls"].item() > 0


def test_batch_of_one_cannot_train(detector):
    detector.train()
    with pytest.raises(ValueError, match=r"train_dataloader\.batch_size"):
        detector(torch.randn(1, 3, 320, 320), [detection_sample([], [])], mode="loss")


def test_predict_returns_boxes_in_original_image_pixels():
    torch.manual_seed(0)
    model = build_detector(num_classes=3).eval()
    # Zero predictors: every box decodes to its anchor; class 1 scores highest everywhere.
    for conv in [*model.head.cls_convs, *model.head.reg_convs]:
        torch.nn.init.zeros_(conv[1].weight)
        torch.nn.init.zeros_(conv[1].bias)
    for conv in model.head.cls_convs:
        conv[1].bias.data.view(-1, 4)[:, 1] = 5.0
    samples = [DataSample(metainfo=dict(img_shape=(320, 320), ori_shape=(480, 640))) for _ in range(2)]
    with torch.no_grad():
        results = model(torch.randn(2, 3, 320, 320), samples, mode="predict")
    anchors, _ = model.head.anchor_generator((320, 320), [(20, 20), (10, 10), (5, 5), (3, 3), (2, 2), (1, 1)])
    expected = rescale_boxes(anchors, (320, 320), (480, 640))
    for sample in results:
        assert 0 < len(sample.pred_bboxes) <= 100 and sample.pred_labels.dtype == torch.int64
        assert set(sample.pred_labels.tolist()) == {1}
        assert (sample.pred_scores[:-1] >= sample.pred_scores[1:]).all()
        distance = (sample.pred_bboxes[:, None] - expected[None]).abs().amax(dim=-1).min(dim=1).values
        assert distance.max() < 1e-3  # each box is an anchor scaled by (640 / 320, 480 / 320), clipped
        assert sample.pred_bboxes[:, 2].max() > 320 and sample.pred_bboxes[:, 2].max() <= 640
        assert sample.pred_bboxes[:, 3].max() <= 480 and sample.pred_bboxes.min() >= 0


def test_rescale_boxes_by_hand():
    boxes = torch.tensor([[10.0, 20.0, 160.0, 330.0]])
    rescaled = rescale_boxes(boxes, img_shape=(320, 320), ori_shape=(480, 640))
    torch.testing.assert_close(rescaled, torch.tensor([[20.0, 30.0, 320.0, 480.0]]))  # y2 clipped


def test_multiclass_nms_per_class():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([[0.9, 0.0], [0.8, 0.7], [0.05, 0.3]])
    kept_boxes, kept_scores, labels = multiclass_nms(
        boxes, scores, score_thr=0.1, nms_pre=10, iou_thr=0.5, max_per_img=10
    )
    # class 0: box 1 is suppressed by box 0; class 1 keeps box 1 (other class) and box 2
    assert kept_scores.tolist() == pytest.approx([0.9, 0.7, 0.3])
    assert labels.tolist() == [0, 1, 1]
    torch.testing.assert_close(kept_boxes, boxes[[0, 1, 2]])
    _, top, _ = multiclass_nms(boxes, scores, score_thr=0.1, nms_pre=1, iou_thr=0.5, max_per_img=10)
    assert top.tolist() == pytest.approx([0.9])


def test_padded_multiclass_nms_keeps_what_multiclass_nms_keeps_and_pads_with_zeros_and_minus_one():
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]])
    scores = torch.tensor([[0.9, 0.0], [0.8, 0.7], [0.05, 0.3]])
    out_boxes, out_scores, out_labels, count = padded_multiclass_nms(
        boxes[None], scores[None], score_thr=0.1, nms_pre=10, iou_thr=0.5, max_per_img=5
    )
    assert count.tolist() == [3]
    assert out_scores[0].tolist() == pytest.approx([0.9, 0.7, 0.3, 0.0, 0.0])
    assert out_labels[0].tolist() == [0, 1, 1, -1, -1]
    torch.testing.assert_close(out_boxes[0, :3], boxes[[0, 1, 2]])
    assert not out_boxes[0, 3:].any()


def test_per_level_nms_pre_needs_level_sizes_unless_the_graph_did_the_nms():
    """Padded NMS outputs (an exported graph's) are only rescaled; per-anchor scores with nms_pre per level
    need the anchors of each level."""
    boxes = torch.tensor([[[0.0, 0.0, 10.0, 10.0], [50.0, 50.0, 60.0, 60.0]]])
    scores = torch.tensor([[[0.9, 0.1], [0.2, 0.7]]])
    sample = DataSample(
        metainfo=dict(batch_input_shape=(100, 100), img_shape=(100, 100), ori_shape=(200, 100))
    )
    cfg = dict(score_thr=0.5, nms_pre_per_level=True)
    with pytest.raises(ValueError, match="level_sizes"):
        detections_to_samples(dict(boxes=boxes, scores=scores), [sample], cfg)
    names = ("boxes", "scores", "labels", "num_detections")
    nms = padded_multiclass_nms(boxes, scores, score_thr=0.5, nms_pre=10, iou_thr=0.5, max_per_img=5)
    padded = dict(zip(names, nms, strict=True))
    (sample,) = detections_to_samples(padded, [sample], cfg)
    torch.testing.assert_close(
        sample.pred_bboxes, torch.tensor([[0.0, 0.0, 10.0, 20.0], [50.0, 100.0, 60.0, 120.0]])
    )
    assert sample.pred_labels.tolist() == [0, 1]


def test_head_refuses_feature_maps_of_another_level_count(detector):
    head = detector.head
    feats = [torch.zeros(1, conv[0].conv.in_channels, 2, 2) for conv in head.cls_convs[:-1]]  # 5 of 6 levels
    with pytest.raises(ValueError):
        head(feats)


def test_pretrained_torchvision_backbone_via_init_cfg(tmp_path):
    reference = torchvision.models.mobilenet_v2()
    path = tmp_path / "mobilenet_v2.pth"
    torch.save(reference.state_dict(), path)
    model = build_detector(backbone_init_cfg=dict(type="Pretrained", checkpoint=str(path)))
    model.init_weights()
    torch.testing.assert_close(model.backbone.stem.conv.weight, reference.features[0][0].weight)
    assert model.head.cls_convs[1][1].weight.std().item() == pytest.approx(0.03, rel=0.05)


def test_base_config_builds_the_paper_model():
    cfg = Config.fromfile("configs/_base_/models/ssdlite_mnv2.py")
    model = MODELS.build(cfg.model)
    assert isinstance(model, SSDDetector) and model.head.num_classes == 80
    assert type(model.head.anchor_generator).__name__ == "TFSSDAnchorGenerator"


@pytest.mark.parametrize("style, anchors", [("tf", [3, 6, 6, 6, 6, 6]), ("mmdet", [6] * 6)])
def test_complexity_matches_the_paper_and_a_hand_count(style, anchors):
    """Paper Table 6: MNV2 + SSDLite 4.3M params, 0.8B MAdds at 320x320, 80 classes; exactly the sum
    over the layers of the architecture's definition (tests/analysis/hand_counts.py), whose backbone
    part has torchvision's parameter count."""
    model = build_detector(num_classes=80, style=style)
    report = count_complexity(model, torch.randn(1, 3, 320, 320), lambda m, x: m(x, mode="tensor"))
    assert report.params == pytest.approx(4.3e6, rel=0.05) and report.madds == pytest.approx(0.8e9, rel=0.07)
    assert (report.params, report.madds) == hand_counts.totals(hand_counts.ssdlite(80, anchors))
    backbone_params, _ = hand_counts.totals(hand_counts.mobilenet_v2(320)[0])
    assert backbone_params == sum(p.numel() for p in torchvision.models.mobilenet_v2().features.parameters())
