"""Multi-task model: one shared backbone feeding the heads of several task models in one forward."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import Tensor, nn

from ...registry import MODELS
from ...structures import TASK_KEY, DataSample
from ..checkpoint import (
    CheckpointMismatchError,
    extract_state_dict,
    load_state_dict_checked,
    read_checkpoint,
)
from .image_groups import image_shape_groups, pad_size_divisor, set_batch_input_shape


@MODELS.register_module()
class MultiTaskModel(BaseModel):
    """Runs one backbone once, with the union of every task's taps, and every task's heads on it.

    Each task is a single-task model (``ImageClassifier``, ``SSDDetector``, ``Segmentor``) built from its
    own config with a backbone reading only that task's taps, which sizes and checks its heads; that
    backbone is then dropped, and the shared one feeds the task model's ``forward_taps``. So the head
    logic stays in the single-task models, and a task's parameters are ``tasks.<task>.<its keys>``
    (``tasks.detection.neck.*``, ``tasks.detection.head.*``...) beside the shared ``backbone.*``.

    Args:
        backbone: the shared backbone's config without ``out_taps``: they are the union of the tasks'.
        tasks: task name -> the task model's config (``type`` and its heads; no backbone or data
            preprocessor) plus ``taps``, the backbone taps it reads in order (``SSDDetector`` reads them
            all, the last feeding its neck), and optionally ``init_checkpoint``, a checkpoint of that
            single-task model seeding its heads (see :meth:`load_task_checkpoint`).
        loss_weights: task name -> factor on that task's losses (default 1.0).

    ``forward(inputs, data_samples, mode)``: ``'tensor'`` -> dict task -> that task model's tensor output;
    ``'loss'`` -> every task's losses on its own samples (metainfo ``task``), weighted and prefixed
    ``'<task>.'`` (``detection.loss_cls``, ``segmentation.decode.loss_ce``); ``'predict'`` -> every sample
    with every task's predictions (``pred_score``/``pred_label``, ``pred_bboxes``/..., ``pred_seg_map``).
    Segmentation predicts in one whole-image pass (``test_cfg`` slide / scales / flip are refused).
    Samples get metainfo ``batch_input_shape`` before any head runs; ``'predict'`` runs each group of
    equally sized images cropped to its ``img_shape`` (:func:`image_shape_groups`).
    """

    def __init__(
        self,
        backbone: dict,
        tasks: dict[str, dict],
        loss_weights: dict[str, float] | None = None,
        data_preprocessor: dict | None = None,
        init_cfg: dict | None = None,
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not tasks:
            raise ValueError("MultiTaskModel needs at least one task in tasks=dict(name=dict(type=...))")
        if "out_taps" in backbone:
            raise ValueError(
                "MultiTaskModel sets the shared backbone's out_taps from the tasks: remove "
                "backbone.out_taps and list each task's taps in tasks.<task>.taps"
            )
        unknown = sorted(set(loss_weights or {}) - set(tasks))
        if unknown:
            raise ValueError(f"loss_weights name unknown tasks {unknown}; the tasks are {sorted(tasks)}")
        self.loss_weights = {name: float((loss_weights or {}).get(name, 1.0)) for name in tasks}
        self.init_checkpoints: dict[str, str] = {}
        task_models, union_taps = {}, []
        for name, cfg in tasks.items():
            cfg = dict(cfg)
            if "taps" not in cfg:
                raise ValueError(f"tasks.{name} needs taps=(...): the backbone taps its heads read")
            taps = tuple(cfg.pop("taps"))
            checkpoint = cfg.pop("init_checkpoint", None)
            if checkpoint:
                self.init_checkpoints[name] = checkpoint
            model = MODELS.build(dict(cfg, backbone=dict(backbone, out_taps=taps)))
            if getattr(model, "single_pass", True) is False:
                raise ValueError(
                    f"tasks.{name}.test_cfg asks for slide / multi-scale / flip inference, which re-runs the "
                    "backbone; a MultiTaskModel predicts in one whole-image pass: set mode='whole'"
                )
            model.backbone = None  # only sized the heads; the shared backbone below feeds them
            task_models[name] = model
            union_taps += [tap for tap in taps if tap not in union_taps]
        self.backbone = MODELS.build(dict(backbone, out_taps=tuple(union_taps)))
        self.tasks = nn.ModuleDict(task_models)

    def init_weights(self) -> None:
        """Initialise every part, then seed tasks from their ``init_checkpoint`` (in config order)."""
        super().init_weights()
        seeded_backbone = False
        for name, filename in self.init_checkpoints.items():
            self.load_task_checkpoint(name, filename, backbone=not seeded_backbone)
            seeded_backbone = True

    def load_task_checkpoint(self, task: str, filename: str, backbone: bool = True) -> None:
        """Seed ``task``'s heads, and with ``backbone`` the shared backbone, from a single-task checkpoint.

        ``filename`` (path, URL) holds that task model's state dict (``backbone.*``, ``neck.*``,
        ``head.*``..., bare or as mmengine's ``{'state_dict': ...}``). The task's own keys must fit
        exactly; backbone layers the checkpoint lacks (e.g. the final 1x1 conv, which a segmentor
        without a ``final`` tap does not build) keep their initialisation and are logged.
        """
        if task not in self.tasks:
            raise KeyError(f"No task '{task}' to seed; the tasks are {sorted(self.tasks)}")
        state_dict = extract_state_dict(read_checkpoint(filename))
        backbone_state = {
            k[len("backbone.") :]: v for k, v in state_dict.items() if k.startswith("backbone.")
        }
        task_state = {k: v for k, v in state_dict.items() if not k.startswith("backbone.")}
        load_state_dict_checked(self.tasks[task], task_state, f"Checkpoint '{filename}' into tasks.{task}")
        if backbone:
            if not backbone_state:
                raise CheckpointMismatchError(f"Checkpoint '{filename}' has no backbone.* keys to seed from")
            source = f"Checkpoint '{filename}' into the shared backbone"
            result = load_state_dict_checked(self.backbone, backbone_state, source, allow_missing=True)
            if result.missing_keys:
                print_log(
                    f"{source}: {len(result.missing_keys)} keys kept their initialisation",
                    logger="current",
                    level=30,
                )
        print_log(
            f"Seeded task '{task}'{' and the backbone' if backbone else ''} from {filename}", logger="current"
        )

    def forward(
        self, inputs: Tensor, data_samples: list[DataSample] | None = None, mode: str = "tensor"
    ) -> dict[str, object] | dict[str, Tensor] | list[DataSample]:
        if mode not in ("tensor", "loss", "predict"):
            raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got '{mode}'")
        if mode == "tensor":
            taps = self.backbone(inputs)
            return {name: model.forward_taps(taps, [], "tensor") for name, model in self.tasks.items()}
        samples = data_samples if data_samples is not None else [DataSample() for _ in range(len(inputs))]
        if mode == "loss":
            set_batch_input_shape(inputs, samples)
            return self._loss(self.backbone(inputs), samples)
        for group_inputs, group in image_shape_groups(inputs, samples, pad_size_divisor(self)):
            set_batch_input_shape(group_inputs, group)
            taps = self.backbone(group_inputs)
            for model in self.tasks.values():
                model.forward_taps(taps, group, "predict")
        return samples

    def _loss(self, taps: dict[str, Tensor], samples: list[DataSample]) -> dict[str, Tensor]:
        """Each task's losses on the samples tagged with it, times its weight, keys ``'<task>.<loss>'``."""
        losses = {}
        for name, indices in self._indices_by_task(samples).items():
            if len(indices) == len(samples):
                task_taps, task_samples = taps, samples
            else:  # a mixed batch: each head sees only its own images
                index = torch.as_tensor(indices, device=next(iter(taps.values())).device)
                task_taps = {tap: value[index] for tap, value in taps.items()}
                task_samples = [samples[i] for i in indices]
            weight = self.loss_weights[name]
            for key, value in self.tasks[name].forward_taps(task_taps, task_samples, "loss").items():
                losses[f"{name}.{key}"] = value * weight if "loss" in key else value
        return losses

    def _indices_by_task(self, samples: Sequence[DataSample]) -> dict[str, list[int]]:
        groups: dict[str, list[int]] = {}
        for i, sample in enumerate(samples):
            task = sample.metainfo.get(TASK_KEY)
            if task not in self.tasks:
                raise ValueError(
                    f"Training sample '{sample.metainfo.get('img_path')}' has metainfo task={task!r}, "
                    f"not one of {sorted(self.tasks)}: train from a MultiTaskDataset, which tags every item"
                )
            groups.setdefault(task, []).append(i)
        return groups
