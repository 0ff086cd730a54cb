"""Multi-task model: one shared backbone feeding the heads of several task models in one forward."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from mmengine.logging import print_log
from torch import Tensor, nn

from ...registry import MODELS
from ...structures import TASK_KEY, DataSample
from ..backbones import build_tapped_backbone, union_taps
from ..checkpoint import (
    CheckpointMismatchError,
    extract_state_dict,
    load_state_dict_checked,
    read_checkpoint,
)
from .task_model import ExportHead, TaskModel, registered_task_model


class MultiTaskExportHead(ExportHead):
    """Every task's :class:`ExportHead` on the shared taps; outputs named ``'<task>.<output>'``.

    The graph is fixed to ``input_size`` when any task's is (a detector's anchors), else dynamic.
    """

    def __init__(self, heads: dict[str, ExportHead]) -> None:
        super().__init__()
        self.heads = nn.ModuleDict(heads)
        self.output_names = tuple(
            f"{task}.{name}" for task, head in heads.items() for name in head.output_names
        )
        sizes = {head.input_size for head in heads.values() if head.input_size is not None}
        if len(sizes) > 1:
            raise ValueError(f"The tasks' graphs are fixed to different input sizes {sorted(sizes)}")
        self.input_size = next(iter(sizes), None)

    def forward(self, taps: dict[str, Tensor], inputs: Tensor) -> tuple[Tensor, ...]:
        return tuple(out for head in self.heads.values() for out in head(taps, inputs))


@MODELS.register_module()
class MultiTaskModel(TaskModel):
    """Runs one backbone once, with the union of every task's taps, and every task's heads on it.

    Each task is a single-task model (``ImageClassifier``, ``SSDDetector``, ``Segmentor``) built from its
    own config with ``build_backbone=False``: its heads, sized from the shared backbone's static tap table
    and reading the taps they declare (``in_taps``); the shared backbone feeds the task
    model's ``forward_taps``. So the head logic stays in the single-task models, and a task's parameters
    are ``tasks.<task>.<its keys>`` (``tasks.detection.neck.*``, ``tasks.detection.head.*``...) beside the
    shared ``backbone.*``.

    Args:
        backbone: the shared backbone's config without ``out_taps``: they are the union of the tasks'.
        tasks: task name -> the task model's config (``type`` and its heads; no backbone or data
            preprocessor) plus optionally ``init_checkpoint``, a checkpoint of that single-task model
            seeding its heads (see :meth:`load_task_checkpoint`).
        loss_weights: task name -> factor on that task's losses (default 1.0).

    ``forward(inputs, data_samples, mode)``: ``'tensor'`` -> dict task -> that task model's tensor output;
    ``'loss'`` -> every task's losses on its own samples (metainfo ``task``), weighted and prefixed
    ``'<task>.'`` (``detection.loss_cls``, ``segmentation.decode.loss_ce``); ``'predict'`` -> every sample
    with every task's predictions (``pred_score``/``pred_label``, ``pred_bboxes``/..., ``pred_seg_map``).
    Segmentation predicts in one whole-image pass (``test_cfg`` slide / scales / flip are refused).
    Export (:meth:`export_head`) gives one graph with one backbone pass and every task's outputs, named
    ``'<task>.<output>'``.
    """

    kind = "multi-task"

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
                "MultiTaskModel sets the shared backbone's out_taps to the taps the tasks' heads read "
                "(their in_taps): remove backbone.out_taps"
            )
        unknown = sorted(set(loss_weights or {}) - set(tasks))
        if unknown:
            raise ValueError(f"loss_weights name unknown tasks {unknown}; the tasks are {sorted(tasks)}")
        self.loss_weights = {name: float((loss_weights or {}).get(name, 1.0)) for name in tasks}
        self.init_checkpoints: dict[str, str] = {}
        task_models = {}
        for name, cfg in tasks.items():
            cfg = dict(cfg)
            if "taps" in cfg:
                raise ValueError(
                    f"tasks.{name}.taps is gone: each head declares the taps it reads (in_taps); "
                    "remove taps from the task's config"
                )
            checkpoint = cfg.pop("init_checkpoint", None)
            if checkpoint:
                self.init_checkpoints[name] = checkpoint
            model = MODELS.build(dict(cfg, backbone=backbone, build_backbone=False))
            if getattr(model, "single_pass", True) is False:
                raise ValueError(
                    f"tasks.{name}.test_cfg asks for slide / multi-scale / flip inference, which re-runs the "
                    "backbone; a MultiTaskModel predicts in one whole-image pass: set mode='whole'"
                )
            task_models[name] = model
        self.tasks = nn.ModuleDict(task_models)
        self.in_taps = union_taps(*(model.in_taps for model in task_models.values()))
        self.backbone = build_tapped_backbone(backbone, self.in_taps)

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

    def forward_taps(self, taps: dict[str, Tensor], data_samples: list[DataSample], mode: str) -> Any:
        """``'tensor'`` -> dict task -> its tensor output; ``'loss'`` -> :meth:`_loss`; ``'predict'`` ->
        every task's predictions in every sample."""
        if mode == "tensor":
            return {name: model.forward_taps(taps, [], "tensor") for name, model in self.tasks.items()}
        if mode == "loss":
            return self._loss(taps, data_samples)
        if mode == "predict":
            for model in self.tasks.values():
                model.forward_taps(taps, data_samples, "predict")
            return data_samples
        raise ValueError(f"mode must be 'tensor', 'loss' or 'predict', got '{mode}'")

    def export_head(self, input_size: Sequence[int] | None, postprocess: bool = True) -> MultiTaskExportHead:
        return MultiTaskExportHead(
            {name: model.export_head(input_size, postprocess) for name, model in self.tasks.items()}
        )

    def postprocess_settings(self) -> dict[str, Any]:
        """Per task: its model type and its own settings."""
        return {
            name: {"type": type(model).__name__, "settings": model.postprocess_settings()}
            for name, model in self.tasks.items()
        }

    @classmethod
    def outputs_to_samples(
        cls, outputs: dict[str, Tensor], data_samples: Sequence[DataSample], settings: dict[str, Any]
    ) -> Sequence[DataSample]:
        """``'<task>.<output>'`` outputs -> each task's predictions, by its own ``outputs_to_samples``."""
        for name, task in settings.items():
            prefix = f"{name}."
            own = {key[len(prefix) :]: value for key, value in outputs.items() if key.startswith(prefix)}
            task_model = registered_task_model(task["type"], f"The settings of task {name!r}")
            task_model.outputs_to_samples(own, data_samples, task["settings"])
        return data_samples

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
