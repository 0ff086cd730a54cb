"""MultiTaskModel: one backbone pass, every head's predictions, per-task losses, single-task seeding."""

import pytest
import torch

from visionkit.models import CheckpointMismatchError, ImageClassifier, MultiTaskModel, Segmentor, SSDDetector
from visionkit.structures import DataSample

BACKBONE = dict(type="MobileNetV2", widen_factor=0.35)
DETECTION = dict(
    type="SSDDetector",
    neck=dict(type="SSDLiteExtraLayers", out_channels=(64, 32, 32, 16)),
    head=dict(type="SSDLiteHead", num_classes=3),
    anchor_generator=dict(type="TFSSDAnchorGenerator"),
)
SEGMENTATION = dict(
    type="Segmentor",
    decode_head=dict(
        type="ASPPHead", num_classes=4, in_taps=("layer15_expansion",), channels=32, dilations=()
    ),
)
CLASSIFICATION = dict(type="ImageClassifier", head=dict(type="ClassifierHead", num_classes=5, dropout=0.0))
SIZE = 96


def build_multi(loss_weights=None, **checkpoints) -> MultiTaskModel:
    tasks = dict(
        detection=dict(DETECTION, init_checkpoint=checkpoints.get("detection")),
        segmentation=dict(SEGMENTATION, init_checkpoint=checkpoints.get("segmentation")),
        classification=dict(CLASSIFICATION, init_checkpoint=checkpoints.get("classification")),
    )
    return MultiTaskModel(backbone=BACKBONE, tasks=tasks, loss_weights=loss_weights)


def single(cfg: dict) -> torch.nn.Module:
    kwargs = {k: v for k, v in cfg.items() if k != "type"}
    model_type = {"SSDDetector": SSDDetector, "Segmentor": Segmentor, "ImageClassifier": ImageClassifier}
    return model_type[cfg["type"]](backbone=BACKBONE, **kwargs)


def samples(task: str | None, n: int = 2, size: int = SIZE) -> list[DataSample]:
    out = []
    for i in range(n):
        meta = dict(img_shape=(size, size), ori_shape=(size, size), img_path=f"{task}_{i}.jpg")
        if task:
            meta["task"] = task
        sample = DataSample(metainfo=meta)
        sample.gt_bboxes = torch.tensor([[10.0, 12.0, 60.0, 70.0]])
        sample.gt_labels = torch.tensor([i % 3])
        sample.gt_seg_map = torch.randint(0, 4, (size, size))
        sample.gt_label = i % 5
        out.append(sample)
    return out


@pytest.fixture(scope="module")
def model() -> MultiTaskModel:
    torch.manual_seed(0)
    return build_multi().eval()


def test_taps_are_the_union_and_parameters_are_per_task(model):
    assert model.backbone.out_taps == ("layer15_expansion", "final")
    keys = set(model.state_dict())
    assert any(k.startswith("tasks.detection.neck.") for k in keys)
    assert any(k.startswith("tasks.segmentation.decode_head.") for k in keys)
    assert any(k.startswith("tasks.classification.head.fc.") for k in keys)
    assert not any(".backbone." in k for k in keys)  # the task models build no backbone of their own
    assert all(task.backbone is None for task in model.tasks.values())


def test_backbone_runs_once_per_forward_and_predict_carries_every_task(model):
    calls = []
    handle = model.backbone.register_forward_hook(lambda *args: calls.append(1))
    try:
        with torch.no_grad():
            predicted = model(torch.randn(2, 3, SIZE, SIZE), samples(None), mode="predict")
            assert len(calls) == 1
            batch = samples("detection") + samples("segmentation") + samples("classification")
            model(torch.randn(6, 3, SIZE, SIZE), batch, mode="loss")
            assert len(calls) == 2
            outputs = model(torch.randn(2, 3, SIZE, SIZE), mode="tensor")
            assert len(calls) == 3
    finally:
        handle.remove()
    for sample in predicted:
        assert sample.pred_bboxes.shape[1] == 4 and len(sample.pred_scores) == len(sample.pred_labels)
        assert tuple(sample.pred_seg_map.shape) == (SIZE, SIZE)
        assert sample.pred_score.shape == (5,) and 0 <= sample.pred_label < 5
        assert sample.metainfo["batch_input_shape"] == (SIZE, SIZE)
    assert set(outputs) == {"detection", "segmentation", "classification"}
    assert outputs["segmentation"].shape == (2, 4, SIZE // 16, SIZE // 16)


def test_loss_keys_per_task_and_weights(model):
    inputs = torch.randn(4, 3, SIZE, SIZE)
    torch.manual_seed(1)
    batch = samples("detection") + samples("segmentation")
    with torch.no_grad():
        plain = model(inputs, batch, mode="loss")
        model.loss_weights = dict(detection=2.0, segmentation=0.5, classification=1.0)
        try:
            weighted = model(inputs, batch, mode="loss")
        finally:
            model.loss_weights = dict(detection=1.0, segmentation=1.0, classification=1.0)
    # classification has no samples in this batch, so no classification loss
    assert set(plain) == {"detection.loss_cls", "detection.loss_bbox", "segmentation.decode.loss_ce"}
    for key, factor in [("detection.loss_cls", 2.0), ("detection.loss_bbox", 2.0)]:
        torch.testing.assert_close(weighted[key], plain[key] * factor)
    torch.testing.assert_close(
        weighted["segmentation.decode.loss_ce"], plain["segmentation.decode.loss_ce"] * 0.5
    )


def test_a_single_task_batch_gives_only_that_tasks_losses(model):
    with torch.no_grad():
        losses = model(torch.randn(2, 3, SIZE, SIZE), samples("segmentation"), mode="loss")
    assert set(losses) == {"segmentation.decode.loss_ce"}


def test_untagged_training_samples_are_refused(model):
    with pytest.raises(ValueError, match="MultiTaskDataset"):
        model(torch.randn(2, 3, SIZE, SIZE), samples(None), mode="loss")


def test_detection_batch_of_one_is_refused_in_training():
    model = build_multi().train()
    with pytest.raises(ValueError, match="batch of 1"):
        model(torch.randn(1, 3, SIZE, SIZE), samples("detection", n=1), mode="loss")


def test_configuration_errors_name_the_fix():
    with pytest.raises(ValueError, match=r"tasks\.detection\.taps is gone.*\(in_taps\)"):
        MultiTaskModel(backbone=BACKBONE, tasks=dict(detection=dict(DETECTION, taps=("final",))))
    with pytest.raises(ValueError, match=r"remove backbone\.out_taps"):
        MultiTaskModel(backbone=dict(BACKBONE, out_taps=("final",)), tasks=dict(c=dict(CLASSIFICATION)))
    with pytest.raises(ValueError, match="unknown tasks"):
        MultiTaskModel(BACKBONE, dict(c=dict(CLASSIFICATION)), loss_weights=dict(detection=1.0))
    multi_scale = dict(SEGMENTATION, test_cfg=dict(scales=(0.5, 1.0), flip=True))
    with pytest.raises(ValueError, match="whole-image pass"):
        MultiTaskModel(BACKBONE, dict(segmentation=multi_scale))


@pytest.fixture(scope="module")
def single_task_checkpoints(tmp_path_factory):
    """Three single-task models sharing one backbone's weights, saved as single-task checkpoints."""
    torch.manual_seed(2)
    detector = single(DETECTION).eval()
    segmentor = single(SEGMENTATION).eval()
    classifier = single(CLASSIFICATION).eval()
    # The segmentor builds no final 1x1 conv (no tap needs it): strict=False skips those weights.
    segmentor.backbone.load_state_dict(detector.backbone.state_dict(), strict=False)
    classifier.backbone.load_state_dict(detector.backbone.state_dict())
    root = tmp_path_factory.mktemp("ckpts")
    paths = {}
    for name, single_model in [
        ("detection", detector),
        ("segmentation", segmentor),
        ("classification", classifier),
    ]:
        paths[name] = str(root / f"{name}.pth")
        torch.save({"state_dict": single_model.state_dict(), "meta": {}}, paths[name])
    return paths, dict(detection=detector, segmentation=segmentor, classification=classifier)


def test_seeding_from_single_task_checkpoints_copies_tensors(single_task_checkpoints):
    paths, singles = single_task_checkpoints
    torch.manual_seed(3)
    model = build_multi(**paths)
    before = model.backbone.state_dict()["stem.conv.weight"].clone()
    model.init_weights()  # what the Runner calls; seeds after the random initialisation
    detector = singles["detection"]
    for key, value in detector.backbone.state_dict().items():
        torch.testing.assert_close(model.backbone.state_dict()[key], value, rtol=0, atol=0)
    assert not torch.equal(before, model.backbone.state_dict()["stem.conv.weight"])
    for name, single_model in singles.items():
        own = {k: v for k, v in single_model.state_dict().items() if not k.startswith("backbone.")}
        seeded = model.tasks[name].state_dict()
        assert set(own) == set(seeded)
        for key, value in own.items():
            torch.testing.assert_close(seeded[key], value, rtol=0, atol=0)


@pytest.mark.slow
def test_outputs_equal_the_single_task_models(single_task_checkpoints):
    paths, singles = single_task_checkpoints
    model = build_multi(**paths)
    model.init_weights()
    model.eval()
    inputs = torch.randn(2, 3, SIZE, SIZE)
    with torch.no_grad():
        multi = model(inputs, samples(None), mode="predict")
        det = singles["detection"](inputs, samples(None), mode="predict")
        seg = singles["segmentation"](inputs, samples(None), mode="predict")
        cls = singles["classification"](inputs, samples(None), mode="predict")
        multi_losses = model(inputs, samples("detection"), mode="loss")
        det_losses = singles["detection"](inputs, samples("detection"), mode="loss")
    for m, d, s, c in zip(multi, det, seg, cls, strict=True):
        torch.testing.assert_close(m.pred_bboxes, d.pred_bboxes)
        torch.testing.assert_close(m.pred_scores, d.pred_scores)
        assert torch.equal(m.pred_labels, d.pred_labels)
        assert torch.equal(m.pred_seg_map, s.pred_seg_map)
        torch.testing.assert_close(m.pred_score, c.pred_score)
    for key, value in det_losses.items():
        torch.testing.assert_close(multi_losses[f"detection.{key}"], value)


def test_seeding_from_a_checkpoint_of_other_heads_fails(tmp_path):
    other = single(dict(DETECTION, head=dict(type="SSDLiteHead", num_classes=7)))
    path = tmp_path / "other.pth"
    torch.save(other.state_dict(), path)
    model = build_multi()
    with pytest.raises(CheckpointMismatchError, match=r"tasks\.detection"):
        model.load_task_checkpoint("detection", str(path))
    with pytest.raises(KeyError, match="No task 'keypoints'"):
        model.load_task_checkpoint("keypoints", str(path))


def test_only_the_first_seeded_task_sets_the_shared_backbone(tmp_path):
    """Seeds differ in their backbones: the first task in config order (detection) sets it, later ones
    only their heads (docs/multitask.md)."""
    torch.manual_seed(4)
    detector = single(DETECTION)
    classifier = single(CLASSIFICATION)  # its own random backbone
    paths = {}
    for name, single_model in [("detection", detector), ("classification", classifier)]:
        paths[name] = str(tmp_path / f"{name}.pth")
        torch.save({"state_dict": single_model.state_dict(), "meta": {}}, paths[name])
    model = build_multi(**paths)
    model.init_weights()
    key = "stem.conv.weight"
    assert not torch.equal(detector.backbone.state_dict()[key], classifier.backbone.state_dict()[key])
    torch.testing.assert_close(
        model.backbone.state_dict()[key], detector.backbone.state_dict()[key], rtol=0, atol=0
    )
    head = {k: v for k, v in classifier.state_dict().items() if not k.startswith("backbone.")}
    for k, v in head.items():
        torch.testing.assert_close(model.tasks["classification"].state_dict()[k], v, rtol=0, atol=0)


def test_loss_weights_given_at_construction_cover_the_unnamed_tasks_with_one():
    model = build_multi(loss_weights=dict(detection=2.0, segmentation=0.5))
    assert model.loss_weights == dict(detection=2.0, segmentation=0.5, classification=1.0)
