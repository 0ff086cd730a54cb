"""Splitting a padded batch into sub-batches of equally sized images, for predictions that do not depend
on what else is in the batch.

The data preprocessor pads every image of a batch to the largest one (bottom/right). Convolutions near
an image's bottom/right border then read the padding's features instead of their zero padding, and
global pooling (ASPP image pooling, the classifier's average pool) averages over padded pixels, so an
image's prediction would change with its batch mates. Predicting each group of equally sized images on
its own, cropped to its ``img_shape``, gives every image the prediction it gets alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ...structures import DataSample


def image_shape_groups(
    inputs: Tensor, data_samples: Sequence[DataSample], size_divisor: int = 1
) -> list[tuple[Tensor, list[DataSample]]]:
    """(N, C, H, W) padded inputs -> [(inputs of one ``img_shape`` (n, C, h, w), their samples)].

    (h, w) is ``img_shape`` rounded up to ``size_divisor`` (the data preprocessor's ``pad_size_divisor``),
    the size the image has when it is alone in a batch. Groups keep the order in which their size first
    appears; a sample without ``img_shape`` counts as the whole (H, W). A batch of one size comes back as
    itself.
    """
    height, width = inputs.shape[-2:]
    groups: dict[tuple[int, int], list[int]] = {}
    for index, sample in enumerate(data_samples):
        h, w = (int(side) for side in sample.metainfo.get("img_shape", (height, width))[:2])
        if h > height or w > width:
            raise ValueError(f"img_shape {(h, w)} is larger than the batch input {(height, width)}")
        size = (
            min(height, -(-h // size_divisor) * size_divisor),
            min(width, -(-w // size_divisor) * size_divisor),
        )
        groups.setdefault(size, []).append(index)
    if list(groups) == [(height, width)]:
        return [(inputs, list(data_samples))]
    result = []
    for (h, w), indices in groups.items():
        rows = torch.as_tensor(indices, device=inputs.device)
        result.append((inputs[rows, :, :h, :w], [data_samples[i] for i in indices]))
    return result


def pad_size_divisor(model: object) -> int:
    """The ``pad_size_divisor`` of ``model``'s data preprocessor (1 if it has none)."""
    return int(getattr(getattr(model, "data_preprocessor", None), "pad_size_divisor", 1) or 1)


def set_batch_input_shape(inputs: Tensor, data_samples: Sequence[DataSample]) -> None:
    """Record the network input size (H, W) of ``inputs`` as each sample's ``batch_input_shape``."""
    for sample in data_samples:
        sample.set_metainfo({"batch_input_shape": tuple(inputs.shape[-2:])})
