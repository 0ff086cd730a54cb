"""Run a graph written by :func:`~visionkit.deploy.onnx_export.export_onnx` with ONNX Runtime, behind the
``test_step`` interface that :func:`visionkit.apis.inference_model` calls, so it gives the same
:class:`DataSample` predictions as the PyTorch model."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from torch import Tensor

from ..models.tasks.image_groups import set_batch_input_shape
from ..registry import MODELS
from ..structures import DataSample
from .onnx_export import METADATA_KEY
from .ort_session import import_onnxruntime, int8_saturates, session_options


def pad_stack(images: Sequence[Tensor], pixel: Sequence[float], size_divisor: int = 1) -> Tensor:
    """(3, h_i, w_i) images -> (N, 3, H, W) float32, each top-left, padded bottom/right with ``pixel``
    to the largest size rounded up to a multiple of ``size_divisor`` (the data preprocessor's padding)."""
    height, width = max(i.shape[-2] for i in images), max(i.shape[-1] for i in images)
    height, width = -(-height // size_divisor) * size_divisor, -(-width // size_divisor) * size_divisor
    batch = torch.tensor(pixel, dtype=torch.float32).view(1, 3, 1, 1).repeat(len(images), 1, height, width)
    for out, image in zip(batch, images, strict=True):
        out[:, : image.shape[-2], : image.shape[-1]] = image
    return batch


class OnnxRuntimeModel:
    """An exported visionkit graph in an ``onnxruntime.InferenceSession``.

    Args:
        cfg: the config the model was exported from (its test pipeline prepares the images).
        path: the ``.onnx`` file.
        device: ``'cpu'`` or ``'cuda[:i]'`` (needs onnxruntime-gpu).

    ``dataset_meta`` comes from the file (the checkpoint's at export), else the config's test dataset.
    Detection graphs take one input size (the export's ``--shape``), so the test pipeline must resize to it.
    """

    def __init__(self, cfg: Config, path: str | Path, device: str = "cpu") -> None:
        ort = import_onnxruntime()
        providers = ["CPUExecutionProvider"]
        if device.startswith("cuda"):
            index = int(device.partition(":")[2] or 0)
            providers.insert(0, ("CUDAExecutionProvider", {"device_id": index}))
        self.session = ort.InferenceSession(str(path), session_options(), providers=providers)
        metadata = self.session.get_modelmeta().custom_metadata_map
        if METADATA_KEY not in metadata:
            raise ValueError(f"'{path}' has no '{METADATA_KEY}' metadata: export it with tools/export.py")
        self.use_metadata(cfg, json.loads(metadata[METADATA_KEY]), path)
        if self.meta.get("quantization") and device == "cpu" and int8_saturates():
            print_log(
                f"'{path}' is INT8 and this CPU has no VNNI: ONNX Runtime runs it exactly only with its "
                "uint8 x uint8 kernels, measured no faster than the float graph on such CPUs (docs/"
                "deployment.md, 'INT8 on x86 CPUs without VNNI'); export the float graph for this CPU",
                logger="current",
                level=logging.WARNING,
            )

    def use_metadata(self, cfg: Config, meta: dict[str, Any], path: str | Path) -> None:
        """Take the exported file's metadata (:func:`~visionkit.deploy.onnx_export.export_metadata`)."""
        if "model_type" not in meta:
            raise ValueError(
                f"'{path}' was exported by an older visionkit: export it again with tools/export.py"
            )
        self.meta = meta
        # The task model's class turns the graph's outputs into predictions, as its own predict does.
        self.task_model = MODELS.get(meta["model_type"])
        self.cfg = cfg
        config_meta = cfg.get("test_dataloader", {}).get("dataset", {}).get("metainfo") or {}
        self.dataset_meta = dict(meta["dataset_meta"] or config_meta)

    def eval(self) -> OnnxRuntimeModel:
        """A graph is always in inference mode; here so that test loops can call it as on a module."""
        return self

    def named_modules(self) -> Iterator[tuple[str, Any]]:
        """No PyTorch modules: hooks that walk a model's modules (the class count check) find none."""
        return iter(())

    def run(self, images: Tensor) -> dict[str, Tensor]:
        """images (N, 3, H, W) float32 raw pixels -> the graph's outputs by name."""
        outputs = self.session.run(None, {"images": images.numpy()})
        return {name: torch.from_numpy(out) for name, out in zip(self.meta["outputs"], outputs, strict=True)}

    def test_step(self, data: dict) -> list[DataSample]:
        """A collated batch (``inputs``: (3, h, w) uint8 images, ``data_samples``) -> predicted samples.

        Each group of equally sized images runs as its own batch, as the PyTorch task models predict, so
        no image's prediction depends on the padding its batch mates would add.
        """
        samples = list(data["data_samples"])
        groups: dict[tuple[int, ...], list[int]] = {}
        for index, image in enumerate(data["inputs"]):
            groups.setdefault(tuple(image.shape[-2:]), []).append(index)
        for indices in groups.values():
            self._predict([data["inputs"][i].float() for i in indices], [samples[i] for i in indices])
        return samples

    def _predict(self, inputs: list[Tensor], samples: list[DataSample]) -> None:
        """Predictions for (3, h, w) float images of one size, written into their ``samples``."""
        images = pad_stack(inputs, self.meta["pad_pixel"], self.meta["pad_size_divisor"])
        expected = self.meta["input_size"]
        if expected is not None and list(images.shape[-2:]) != expected:
            raise ValueError(
                f"The ONNX graph takes {expected[0]}x{expected[1]} images but the test pipeline gives "
                f"{images.shape[-2]}x{images.shape[-1]}: export with --shape {images.shape[-2]} "
                f"{images.shape[-1]}"
            )
        set_batch_input_shape(images, samples)
        self.task_model.outputs_to_samples(self.run(images), samples, self.meta["settings"])
