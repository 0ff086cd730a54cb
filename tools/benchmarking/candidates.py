"""What ``tools/benchmark.py`` times: a visionkit model and its torchvision twin, end to end and model only.

End to end is uint8 RGB images (H, W, 3) in, predictions at the original size out: the config's test
pipeline and data preprocessor (or torchvision's own preprocessing), the model, and post-processing
(argmax / top-1, NMS and box rescaling, logits upsampled and argmax). Model only is one forward pass on an
already prepared batch (``mode='tensor'``), without upsampling or NMS.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from torch import Tensor, nn
from torchvision.models.detection import ssdlite320_mobilenet_v3_large
from torchvision.models.segmentation import deeplabv3_mobilenet_v3_large, lraspp_mobilenet_v3_large
from torchvision.transforms._presets import ImageClassification
from torchvision.transforms.v2 import functional as TF

from visionkit.apis.inference import build_test_pipeline, prepare_image
from visionkit.deploy.runtimes import RuntimeModel, pad_stack
from visionkit.registry import MODELS

from .score_prior import apply_score_prior
from .torchvision_references import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    deeplabv3_mobilenet_v2,
    ssdlite_mobilenet_v2,
    torchvision_classifier,
)

Images = Sequence[np.ndarray]


class Candidate(NamedTuple):
    """A model under test: ``end_to_end(images)`` and ``model_only(images)`` (inputs prepared once).

    ``in_torch``: it allocates through PyTorch, so :func:`~visionkit.analysis.memory.peak_memory` sees it.
    """

    name: str
    end_to_end: Callable[[Images], object]
    model_only: Callable[[Images], Callable[[], object]]
    in_torch: bool = True


def kind_of(cfg: Config) -> str:
    """The ``kind`` of task of the config's model type (a registered task model)."""
    model_type = MODELS.get(cfg.model.type) if cfg.model.type in MODELS else None
    if not getattr(model_type, "kind", ""):
        raise ValueError(f"No benchmark for model type '{cfg.model.type}': it is not a task model")
    return model_type.kind


def _batcher(cfg: Config) -> Callable[[Images], dict]:
    """images -> a collated batch through the config's test pipeline, as ``inference_model`` makes it."""
    # Built once, so the timing is per-image preprocessing, not pipeline construction.
    pipeline = build_test_pipeline(cfg)
    return lambda images: pseudo_collate([prepare_image(image, pipeline) for image in images])


def visionkit_candidate(name: str, model: nn.Module, cfg: Config) -> Candidate:
    """``model`` (a visionkit task model in eval mode) with the config's test pipeline."""
    batch = _batcher(cfg)

    def model_only(images: Images) -> Callable[[], object]:
        inputs = model.data_preprocessor(batch(images), False)["inputs"]
        return lambda: model(inputs, mode="tensor")

    return Candidate(name, lambda images: model.test_step(batch(images)), model_only)


def onnxruntime_candidate(name: str, runtime: RuntimeModel, cfg: Config) -> Candidate:
    """An exported graph in ONNX Runtime with the config's test pipeline.

    Its model-only call is the whole graph: normalisation and the task's post-processing are inside it.
    """
    batch = _batcher(cfg)

    def model_only(images: Images) -> Callable[[], object]:
        inputs = pad_stack([image.float() for image in batch(images)["inputs"]], runtime.meta["pad_pixel"])
        return lambda: runtime.run(inputs)

    return Candidate(name, lambda images: runtime.test_step(batch(images)), model_only, in_torch=False)


def _to_float(image: np.ndarray) -> Tensor:
    """(H, W, 3) uint8 -> (3, H, W) float in [0, 1]."""
    return TF.to_dtype(torch.from_numpy(image).permute(2, 0, 1), torch.float32, scale=True)


def _normalise(image: np.ndarray) -> Tensor:
    return TF.normalize(_to_float(image), list(IMAGENET_MEAN), list(IMAGENET_STD))


def torchvision_candidate(task: str, model: nn.Module, cfg: Config) -> Candidate:
    """The torchvision twin of ``model``, with torchvision's preprocessing and post-processing."""
    if task not in TORCHVISION_TWINS:
        raise ValueError(
            f"No torchvision twin for task '{task}'; there are twins for {', '.join(TORCHVISION_TWINS)}"
        )
    return TORCHVISION_TWINS[task](model, cfg)


def _classification_reference(model: nn.Module, cfg: Config) -> Candidate:
    name, reference = torchvision_classifier(cfg.model.backbone, model.head.fc.out_features)
    reference.eval()
    size = cfg.get("input_size", 224)
    # torchvision's ImageNet preset (resize 256, crop 224 at 224), the same as the configs' test pipeline.
    preprocess = ImageClassification(crop_size=size, resize_size=round(size * 256 / 224))

    def end_to_end(images: Images) -> tuple[Tensor, Tensor]:
        inputs = torch.stack([preprocess(torch.from_numpy(image).permute(2, 0, 1)) for image in images])
        return reference(inputs).softmax(dim=1).max(dim=1)

    def model_only(images: Images) -> Callable[[], object]:
        inputs = torch.stack([preprocess(torch.from_numpy(image).permute(2, 0, 1)) for image in images])
        return lambda: reference(inputs)

    return Candidate(f"torchvision {name}", end_to_end, model_only)


def _detection_reference(model: nn.Module, cfg: Config) -> Candidate:
    head, test_cfg = model.head, model.head.test_cfg
    settings = dict(
        score_thresh=test_cfg.score_thr,
        topk_candidates=test_cfg.topk_per_class or test_cfg.nms_pre,
        nms_thresh=test_cfg.nms_iou,
        detections_per_img=test_cfg.max_per_img,
    )
    backbone = _backbone_type(cfg, "detection")
    if backbone == "MobileNetV3":  # torchvision's own ssdlite320 (MobileNetV3-Large, reduced tail)
        reference = ssdlite320_mobilenet_v3_large(
            weights=None, weights_backbone=None, num_classes=head.num_classes + 1, **settings
        ).eval()
        name = "ssdlite320 mobilenet_v3_large"
    else:
        reference = ssdlite_mobilenet_v2(
            num_classes=head.num_classes, size=cfg.get("input_size", 320), **settings
        ).eval()
        name = "ssdlite mobilenet_v2"
    apply_score_prior(
        [block[1] for block in reference.head.classification_head.module_list],
        head.num_classes,
        background_first=True,
    )

    def model_only(images: Images) -> Callable[[], object]:
        inputs = reference.transform([_to_float(image) for image in images])[0].tensors
        return lambda: reference.head(list(reference.backbone(inputs).values()))

    return Candidate(
        f"torchvision {name}",
        lambda images: reference([_to_float(image) for image in images]),
        model_only,
    )


def _segmentation_reference(model: nn.Module, cfg: Config) -> Candidate:
    num_classes = model.decode_head.num_classes
    head_type = cfg.model.decode_head.type
    if _backbone_type(cfg, "segmentation") == "MobileNetV3":  # torchvision's MobileNetV3-Large models
        if head_type not in ("LRASPPHead", "ASPPHead"):
            raise ValueError(f"No torchvision twin for a MobileNetV3 segmentor with a {head_type}")
        lraspp = head_type == "LRASPPHead"
        builder = lraspp_mobilenet_v3_large if lraspp else deeplabv3_mobilenet_v3_large
        reference = builder(weights=None, weights_backbone=None, num_classes=num_classes).eval()
        name = "lraspp mobilenet_v3_large" if lraspp else "deeplabv3 mobilenet_v3_large"
    else:
        rates = tuple(cfg.model.decode_head.get("dilations", ()))
        reference = deeplabv3_mobilenet_v2(num_classes, rates).eval()
        lraspp, name = False, f"deeplabv3 mobilenet_v2 aspp{list(rates)}"

    def end_to_end(images: Images) -> Tensor:
        # One batch needs one size: as the visionkit pipeline, this assumes same-sized images.
        return reference(torch.stack([_normalise(image) for image in images]))["out"].argmax(dim=1)

    def model_only(images: Images) -> Callable[[], object]:
        inputs = torch.stack([_normalise(image) for image in images])
        if lraspp:  # LR-ASPP's classifier reads the backbone's two maps
            return lambda: reference.classifier(reference.backbone(inputs))
        return lambda: reference.classifier(reference.backbone(inputs)["out"])

    return Candidate(f"torchvision {name}", end_to_end, model_only)


def _backbone_type(cfg: Config, task: str) -> str:
    """The config's backbone type, where torchvision has a twin of that task on it."""
    backbone = cfg.model.backbone.type
    if backbone not in ("MobileNetV2", "MobileNetV3"):
        raise ValueError(f"No torchvision {task} twin on a {backbone} backbone")
    return backbone


# task -> the twin's builder (model, cfg) -> Candidate: torchvision's model of the same architecture.
TORCHVISION_TWINS: dict[str, Callable[[nn.Module, Config], Candidate]] = {
    "classification": _classification_reference,
    "detection": _detection_reference,
    "segmentation": _segmentation_reference,
}


def _prepare_detector(model: nn.Module) -> None:
    """Give a randomly initialised visionkit SSD the same trained-like scores as the torchvision twin."""
    apply_score_prior([block[1] for block in model.head.cls_convs], model.head.num_classes, False)


# task -> what a randomly initialised model of it needs to do realistic work in a benchmark.
PREPARE: dict[str, Callable[[nn.Module], None]] = {"detection": _prepare_detector}


def prepare_for_timing(model: nn.Module) -> None:
    """Prepare ``model`` (or each task of a multi-task model) as :data:`PREPARE` says for its task."""
    for task_model in [model, *getattr(model, "tasks", {}).values()]:
        PREPARE.get(task_model.kind, lambda _: None)(task_model)
