"""A toy backbone, head, task and runtime, written as docs/extending.md says: registered from this one file,
without editing visionkit's deploy/, tools/ or visualization code. tests/extending/test_extending.py builds,
exports, runs, draws and writes them through visionkit's own entry points.

The toy task, ``colour``, predicts an image's mean colour (R, G, B in 0..255); its outputs are the
:class:`DataSample` fields ``gt_colour`` and ``pred_colour``, each a (3,) float tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from visionkit.deploy.onnx_export import METADATA_KEY
from visionkit.deploy.runtimes import RuntimeModel
from visionkit.models.backbones import (
    TapInfo,
    TappedBackbone,
    backbone_taps,
    build_tapped_backbone,
    check_head_taps,
    fill_in_channels,
    head_taps,
)
from visionkit.models.tasks.task_model import ExportHead, TaskModel
from visionkit.outputs import TaskOutputs, View
from visionkit.registry import MODELS, RUNTIMES, TASK_OUTPUTS
from visionkit.structures import DataSample
from visionkit.visualization import draw_text_rows


@MODELS.register_module()
class TinyBackbone(TappedBackbone):
    """Two stride-2 convs: taps ``c1`` (``width`` channels, stride 2) and ``c2`` (2 x width, stride 4)."""

    @classmethod
    def tap_table(cls, width: int = 8, **arch: object) -> dict[str, TapInfo]:
        return {"c1": TapInfo(width, 2), "c2": TapInfo(2 * width, 4)}

    def __init__(
        self, width: int = 8, out_taps: Sequence[str] = ("c2",), init_cfg: dict | None = None
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.taps = self.tap_table(width)
        self.set_out_taps(out_taps)
        self.c1 = nn.Sequential(nn.Conv2d(3, width, 3, 2, 1), nn.ReLU())
        self.c2 = nn.Sequential(nn.Conv2d(width, 2 * width, 3, 2, 1), nn.ReLU())

    def forward(self, x: Tensor) -> dict[str, Tensor]:
        c1 = self.c1(x)
        feats = {"c1": c1, "c2": self.c2(c1)}
        return {name: feats[name] for name in self.out_taps}


@MODELS.register_module()
class ColourHead(BaseModule):
    """Mean colour (N, 3) in 0..255 from one tap: average pool -> linear -> sigmoid x 255."""

    default_in_taps = ("c2",)

    def __init__(self, in_channels: Sequence[int], in_taps: Sequence[str] | None = None) -> None:
        super().__init__()
        self.in_taps = check_head_taps("ColourHead", in_taps or self.default_in_taps, in_channels, 1)
        self.fc = nn.Linear(in_channels[0], 3)

    def forward(self, feats: dict[str, Tensor]) -> Tensor:
        pooled = F.adaptive_avg_pool2d(feats[self.in_taps[0]], 1).flatten(1)
        return self.fc(pooled).sigmoid() * 255

    def loss(self, feats: dict[str, Tensor], samples: Sequence[DataSample]) -> dict[str, Tensor]:
        target = torch.stack([sample.gt_colour for sample in samples]).to(feats[self.in_taps[0]])
        return {"loss_colour": F.smooth_l1_loss(self(feats), target)}


def colour_to_samples(colours: Tensor, samples: Sequence[DataSample]) -> Sequence[DataSample]:
    for sample, colour in zip(samples, colours, strict=True):
        sample.pred_colour = colour
    return samples


class ColourExportHead(ExportHead):
    output_names = ("colour",)

    def __init__(self, head: ColourHead, input_size: Sequence[int]) -> None:
        super().__init__()
        self.head, self.input_size = head, (int(input_size[0]), int(input_size[1]))

    def forward(self, taps: dict[str, Tensor], inputs: Tensor) -> tuple[Tensor]:
        return (self.head(taps),)


@MODELS.register_module()
class ColourRegressor(TaskModel):
    """The toy task model: backbone -> :class:`ColourHead`; ``kind`` names its outputs below."""

    kind = "colour"

    def __init__(
        self, backbone: dict, head: dict, data_preprocessor: dict | None = None, build_backbone: bool = True
    ) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        head = dict(head)
        self.in_taps = head_taps(head)
        fill_in_channels(head, backbone_taps(backbone, self.in_taps))
        self.head = MODELS.build(head)
        self.backbone = build_tapped_backbone(backbone, self.in_taps) if build_backbone else None

    def forward_taps(self, taps: dict[str, Tensor], data_samples: list[DataSample], mode: str) -> Any:
        if mode == "loss":
            return self.head.loss(taps, data_samples)
        colours = self.head(taps)
        return colours if mode == "tensor" else colour_to_samples(colours, data_samples)

    def export_head(self, input_size: Sequence[int] | None, postprocess: bool = True) -> ColourExportHead:
        return ColourExportHead(self.head, input_size)

    @classmethod
    def outputs_to_samples(
        cls, outputs: dict[str, Tensor], data_samples: Sequence[DataSample], settings: dict[str, Any]
    ) -> Sequence[DataSample]:
        return colour_to_samples(outputs["colour"], data_samples)


@TASK_OUTPUTS.register_module(name="colour")
class ColourOutputs(TaskOutputs):
    """The colour as a captioned swatch beside the image; ``{'rgb': [r, g, b]}`` as the record."""

    kind = "colour"
    gt_fields = ("gt_colour",)
    pred_fields = ("pred_colour",)
    record_key = "colour"

    @staticmethod
    def _swatch(image: np.ndarray, colour: Tensor, title: str) -> np.ndarray:
        rgb = [round(float(v)) for v in colour]
        return draw_text_rows(image, [(f"{title} {rgb}", rgb)])

    def draw_ground_truth(
        self, image: np.ndarray, sample: DataSample, view: View, at_input_size: bool = False
    ) -> np.ndarray:
        return self._swatch(image, sample.gt_colour, "mean colour")

    def draw_prediction(self, image: np.ndarray, sample: DataSample, view: View) -> np.ndarray:
        return self._swatch(image, sample.pred_colour, "predicted")

    def record(self, sample: DataSample, view: View) -> dict[str, list[float]]:
        return {"rgb": [round(float(v), 1) for v in sample.pred_colour]}

    def summary(self, record: dict[str, list[float]], view: View) -> str:
        return "mean colour " + ", ".join(f"{v:.0f}" for v in record["rgb"])

    def agreement_counts(
        self, reference: Sequence[DataSample], other: Sequence[DataSample], iou: float, score_thr: float
    ) -> dict[str, int]:
        close = sum(
            bool((r.pred_colour - o.pred_colour).abs().max() <= 8)
            for r, o in zip(reference, other, strict=True)
        )
        return {"colours_close": close, "colour_images": len(reference)}

    def agreement_ratios(self, counts: dict[str, int]) -> dict[str, float]:
        if not counts.get("colour_images"):
            return {}
        return {"colour_agreement": counts["colours_close"] / counts["colour_images"]}


@RUNTIMES.register_module(name="onnx-reference")
class OnnxReferenceModel(RuntimeModel):
    """The ONNX package's own reference evaluator (``onnx.reference``): a second runtime for ``.onnx`` files,
    slow but written from the ONNX specification."""

    suffixes = (".onnx",)

    def load(self, path: Path, device: str) -> dict[str, Any]:
        import json

        import onnx
        from onnx.reference import ReferenceEvaluator

        if device != "cpu":
            raise ValueError(f"The ONNX reference evaluator runs on the CPU, not '{device}'")
        graph = onnx.load(str(path))
        self.evaluator = ReferenceEvaluator(graph)
        return json.loads({p.key: p.value for p in graph.metadata_props}[METADATA_KEY])

    def run(self, images: Tensor) -> dict[str, Tensor]:
        outputs = self.evaluator.run(None, {"images": images.numpy()})
        return {name: torch.from_numpy(out) for name, out in zip(self.meta["outputs"], outputs, strict=True)}
