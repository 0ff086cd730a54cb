"""The runtime layer's contract: an exported model file run by an inference runtime, behind the
``test_step`` interface that :func:`visionkit.apis.inference_model` and the Runner's test loop call.

A runtime (ONNX Runtime, OpenVINO, ExecuTorch...) implements two methods, :meth:`RuntimeModel.load` (open the
file, return the export's metadata) and :meth:`RuntimeModel.run` (raw pixels in, the graph's named outputs
out), and registers itself in :data:`~visionkit.registry.RUNTIMES` with the file suffixes it reads. Everything
else is shared here: the test pipeline's images are padded as the data preprocessor pads them, and the task
model's class named in the metadata turns the outputs into predictions, as its own ``predict`` does, so
every runtime gives the same :class:`DataSample` predictions as the PyTorch model.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from mmengine.config import Config
from mmengine.logging import print_log
from torch import Tensor

from ...models.dataset_meta_checks import checked_metainfo
from ...models.tasks.image_groups import set_batch_input_shape
from ...models.tasks.task_model import registered_task_model
from ...structures import DataSample
from ..ort_session import int8_saturates


def pad_stack(images: Sequence[Tensor], pixel: Sequence[float], size_divisor: int = 1) -> Tensor:
    """(3, h_i, w_i) images -> (N, 3, H, W) float32, each top-left, padded bottom/right with ``pixel``
    to the largest size rounded up to a multiple of ``size_divisor`` (the data preprocessor's padding)."""
    height, width = max(i.shape[-2] for i in images), max(i.shape[-1] for i in images)
    height, width = -(-height // size_divisor) * size_divisor, -(-width // size_divisor) * size_divisor
    batch = torch.tensor(pixel, dtype=torch.float32).view(1, 3, 1, 1).repeat(len(images), 1, height, width)
    for out, image in zip(batch, images, strict=True):
        out[:, : image.shape[-2], : image.shape[-1]] = image
    return batch


class RuntimeModel:
    """A file written by ``tools/export.py``, run by a runtime; subclasses give :meth:`load` and :meth:`run`.

    Args:
        cfg: the config the model was exported from (its test pipeline prepares the images).
        path: the exported file.
        device: ``'cpu'``, or what the runtime supports.

    ``dataset_meta`` comes from the file (the checkpoint's at export), else the config's test dataset.
    A graph fixed to one input size (detection) needs a test pipeline that resizes to it.
    """

    #: The suffixes of the files this runtime reads.
    suffixes: ClassVar[tuple[str, ...]] = ()
    #: The suffixes this runtime is the default for (one runtime per suffix; else the first that reads it).
    default_for: ClassVar[tuple[str, ...]] = ()
    #: Logged for an INT8 file on an x86 CPU without VNNI (what the runtime's int8 kernels do there), or None.
    int8_without_vnni: ClassVar[str | None] = None

    def __init__(self, cfg: Config, path: str | Path, device: str = "cpu") -> None:
        self.path = Path(path)
        meta = self.load(self.path, device)
        if "model_type" not in meta:
            raise ValueError(
                f"'{path}' was exported by an older visionkit: export it again with tools/export.py"
            )
        self.meta = meta
        # The task model's class turns the graph's outputs into predictions, as its own predict does.
        self.task_model = registered_task_model(meta["model_type"], f"Exported model '{path}'")
        self.cfg = cfg
        config_meta = cfg.get("test_dataloader", {}).get("dataset", {}).get("metainfo") or {}
        saved = checked_metainfo(meta.get("dataset_meta"), f"Exported model '{path}'")
        self.dataset_meta = saved or dict(config_meta)
        if self.int8_without_vnni and meta.get("quantization") and device == "cpu" and int8_saturates():
            print_log(
                f"'{path}' is INT8 and {self.int8_without_vnni}", logger="current", level=logging.WARNING
            )

    def load(self, path: Path, device: str) -> dict[str, Any]:
        """Open ``path`` for ``device`` and return the export's metadata
        (:func:`~visionkit.deploy.onnx_export.export_metadata`)."""
        raise NotImplementedError

    def run(self, images: Tensor) -> dict[str, Tensor]:
        """images (N, 3, H, W) float32 raw pixels -> the graph's outputs by name (``meta['outputs']``)."""
        raise NotImplementedError

    def eval(self) -> RuntimeModel:
        """A graph is always in inference mode; here so that test loops can call it as on a module."""
        return self

    def named_modules(self) -> Iterator[tuple[str, Any]]:
        """No PyTorch modules: hooks that walk a model's modules (the class count check) find none."""
        return iter(())

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
                f"'{self.path}' takes {expected[0]}x{expected[1]} images but the test pipeline gives "
                f"{images.shape[-2]}x{images.shape[-1]}: export with --input-size {images.shape[-2]} "
                f"{images.shape[-1]}"
            )
        set_batch_input_shape(images, samples)
        self.task_model.outputs_to_samples(self.run(images), samples, self.meta["settings"])
