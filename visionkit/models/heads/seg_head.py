"""What every semantic segmentation head shares: the pixel loss, the prediction and their map helpers.

A head's ``forward(feats)`` gives logits (N, K, h, w) at its tap's resolution; everything else works
on maps at the network input size, ``batch_input_shape`` (H, W) in each sample's metainfo (set by the
:class:`~visionkit.models.tasks.Segmentor`): the batch after the data preprocessor's padding, with
each image in its top-left corner (``img_shape``) and padding to the bottom and right.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from ...structures import DataSample
from ..backbones.taps import check_head_taps

IGNORE_INDEX = 255


def resize_logits(logits: Tensor, size: Sequence[int], align_corners: bool = False) -> Tensor:
    """Bilinear resize of (N, K, h, w) logits to ``size`` (H, W); identity if already that size.

    ``align_corners=True`` maps corner pixels onto corner pixels, as TF DeepLab's ``resize_bilinear`` does.
    """
    size = (int(size[0]), int(size[1]))
    if tuple(logits.shape[-2:]) == size:
        return logits
    return F.interpolate(logits, size=size, mode="bilinear", align_corners=align_corners)


def _source_corners(size_in: int, size_out: int, device: torch.device) -> tuple[Tensor, Tensor, Tensor]:
    """For each of ``size_out`` output indices: its two source indices and the upper one's weight, as
    ``F.interpolate(mode="bilinear", align_corners=False)`` samples them (half-pixel centres, clamped)."""
    scale = torch.tensor(size_in, dtype=torch.float32, device=device) / size_out
    source = ((torch.arange(size_out, dtype=torch.float32, device=device) + 0.5) * scale - 0.5).clamp_(min=0)
    low = source.long()
    return low, (low + 1).clamp_(max=size_in - 1), source - low


def _cell_outputs(cells: Tensor, low: Tensor, counts: Tensor) -> Tensor:
    """(n, m) output indices whose lower source index is each of ``cells`` (n,); rows with fewer than m
    repeat their last index (``low`` is sorted, so each cell's outputs are a run)."""
    starts = counts.cumsum(0) - counts
    span = torch.arange(int(counts[cells].max()), device=cells.device)
    return starts[cells, None] + torch.minimum(span, counts[cells, None] - 1)


def resized_labels(logits: Tensor, size: Sequence[int], dense_above: float = 0.05) -> Tensor:
    """The argmax over classes of (K, h, w) ``logits`` resized bilinearly to ``size`` (H, W): (H, W) int64.

    The same labels as ``resize_logits(logits[None], size)[0].max(dim=0).indices`` without resizing
    every class at every pixel: an output pixel is a convex mix of four source pixels, and where those
    four share their argmax k, k wins the mix too (each rounding step of the mix is monotone, so a class
    at or below k at all four stays at or below it). Only the pixels of source cells whose corners
    disagree (object borders: 1-3% of the cells of a trained model's map) are mixed in full, by the same
    formula as ``F.interpolate``; where two classes tie to the last bit there, the class picked may
    differ. Above ``dense_above`` of the cells disagreeing, the dense resize is the faster, and is used.
    """
    _, h, w = logits.shape
    height, width = int(size[0]), int(size[1])
    labels = logits.max(dim=0).indices
    if (h, w) == (height, width):
        return labels
    down = torch.cat([labels[1:], labels[-1:]])
    right = torch.cat([labels[:, 1:], labels[:, -1:]], dim=1)
    diagonal = torch.cat([down[:, 1:], down[:, -1:]], dim=1)
    mixed = (labels != down) | (labels != right) | (labels != diagonal)
    y0, y1, wy = _source_corners(h, height, logits.device)
    x0, x1, wx = _source_corners(w, width, logits.device)
    count_y, count_x = torch.bincount(y0, minlength=h), torch.bincount(x0, minlength=w)
    if height < h or width < w:  # shrinking skips source cells: no output pixel to fill there
        mixed &= (count_y > 0)[:, None] & (count_x > 0)[None, :]
    cy, cx = mixed.nonzero(as_tuple=True)
    if cy.numel() > dense_above * h * w:
        return resize_logits(logits[None], size)[0].max(dim=0).indices
    out = labels.index_select(0, y0).gather(1, x0.expand(height, width))
    if cy.numel():
        ys, xs = _cell_outputs(cy, y0, count_y), _cell_outputs(cx, x0, count_x)  # (n, my), (n, mx)
        # (K, my, mx, n): the n cells on the last axis, so that each step runs along long rows
        corners = [logits[:, a, b][:, None, None] for a in (cy, y1[ys[:, 0]]) for b in (cx, x1[xs[:, 0]])]
        lx, ly = wx[xs].t()[None, None], wy[ys].t()[None, :, None]
        top = (1 - lx) * corners[0] + lx * corners[1]
        bottom = (1 - lx) * corners[2] + lx * corners[3]
        out[ys.t()[:, None], xs.t()[None]] = ((1 - ly) * top + ly * bottom).max(dim=0).indices
    return out


def stack_seg_maps(
    data_samples: Sequence[DataSample], size: Sequence[int], ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Each sample's ``gt_seg_map`` (h, w) padded bottom/right with ``ignore_index`` -> (N, H, W) int64."""
    height, width = int(size[0]), int(size[1])
    maps = []
    for sample in data_samples:
        seg_map = torch.as_tensor(sample.gt_seg_map).long()
        h, w = seg_map.shape
        if h > height or w > width:
            raise ValueError(
                f"gt_seg_map {h}x{w} of '{sample.metainfo.get('img_path')}' is larger than the batch "
                f"input {height}x{width}: the pipeline must transform the map together with the image"
            )
        maps.append(F.pad(seg_map, (0, width - w, 0, height - h), value=ignore_index))
    return torch.stack(maps)


def check_labels(
    target: Tensor, data_samples: Sequence[DataSample], num_classes: int, ignore_index: int
) -> None:
    """Raise ``ValueError`` naming the label map whose values lie outside ``0..num_classes-1`` and ignore.

    target: (N, H, W) int64 from :func:`stack_seg_maps`. Without this, cross-entropy fails inside torch
    ("Target 7 is out of bounds") without saying which file holds the label.
    """
    bad = ((target < 0) | (target >= num_classes)) & (target != ignore_index)
    if not bad.any():
        return
    index = int(bad.flatten(1).any(1).nonzero()[0])
    values = sorted(set(target[index][bad[index]].unique().tolist()))
    meta = data_samples[index].metainfo
    where = f"'{meta['seg_map_path']}'" if "seg_map_path" in meta else f"of image '{meta.get('img_path')}'"
    raise ValueError(
        f"Segmentation map {where} has labels {values[:10]} outside 0..{num_classes - 1} (and "
        f"{ignore_index} = ignore): fix the map, or set the head's num_classes / ignore_index"
    )


def seg_logits_to_samples(
    logits: Tensor, data_samples: Sequence[DataSample], with_logits: bool = False
) -> Sequence[DataSample]:
    """Turn scores at the input size into predictions at each image's original size.

    Args:
        logits: (N, K, H, W) class scores at ``batch_input_shape``.
        with_logits: also store ``seg_logits`` (K, H0, W0) float (memory: K x H0 x W0 per image).

    Each sample gets ``pred_seg_map`` (H0, W0) int64, ``(H0, W0) = ori_shape``: the scores are cropped
    to ``img_shape`` (dropping the padding), resized to ``ori_shape`` and arg-maxed.
    """
    for sample, sample_logits in zip(data_samples, logits, strict=True):
        height, width = sample.metainfo.get("img_shape", sample_logits.shape[-2:])
        cropped = sample_logits[None, :, :height, :width]
        size = sample.metainfo.get("ori_shape", (height, width))
        if with_logits:
            sample.seg_logits = resize_logits(cropped, size)[0]
            # max().indices is argmax (the first maximum on ties) at ~1/6 of its time on CPU
            sample.pred_seg_map = sample.seg_logits.max(dim=0).indices
        else:
            sample.pred_seg_map = resized_labels(cropped[0], size)
    return data_samples


def input_size(data_samples: Sequence[DataSample]) -> tuple[int, int]:
    """The batch's network input size (H, W) from ``batch_input_shape`` in the samples' metainfo."""
    shape = data_samples[0].metainfo.get("batch_input_shape")
    if shape is None:
        raise KeyError(
            "Segmentation heads need metainfo 'batch_input_shape' (H, W) in each data sample; the "
            "Segmentor sets it. Set it yourself when calling a head directly."
        )
    return int(shape[0]), int(shape[1])


class SegHead(BaseModule):
    """Base of the segmentation heads: subclasses build their layers and define ``forward``; they read
    ``tap_count`` taps, ``default_in_taps`` unless the config names others.

    Args:
        num_classes: K, including background.
        in_taps: names of the backbone taps the head reads (``default_in_taps`` when ``None``).
        in_channels: channels of each of them.
        ignore_index: label value that never counts in the loss (VOC: 255 on object borders).
        class_weight: optional per-class cross-entropy weights (K,).
        loss_weight: factor on the loss (e.g. 0.4 for an auxiliary head).
        align_corners: how the logits are resized to the input (TF DeepLab's checkpoints: ``True``).
    """

    default_in_taps: ClassVar[tuple[str, ...]] = ("layer18",)
    tap_count: ClassVar[int] = 1

    def __init__(
        self,
        num_classes: int,
        in_taps: Sequence[str] | None,
        in_channels: Sequence[int],
        ignore_index: int = IGNORE_INDEX,
        class_weight: Sequence[float] | None = None,
        loss_weight: float = 1.0,
        init_cfg: dict | None = None,
        align_corners: bool = False,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.align_corners = align_corners
        if class_weight is not None and len(class_weight) != num_classes:
            raise ValueError(f"class_weight has {len(class_weight)} entries for {num_classes} classes")
        self.num_classes = num_classes
        name, taps = type(self).__name__, in_taps or self.default_in_taps
        self.in_taps = check_head_taps(name, taps, in_channels, self.tap_count)
        self.ignore_index, self.loss_weight = ignore_index, loss_weight
        self.class_weight = None if class_weight is None else tuple(float(w) for w in class_weight)

    def loss(self, feats: dict[str, Tensor], data_samples: Sequence[DataSample]) -> dict[str, Tensor]:
        """Pixel cross-entropy over non-ignored pixels, logits upsampled (bilinear) to the input size.

        Returns ``{'loss_ce': scalar}`` (times ``loss_weight``); zero when every pixel is ignored.
        """
        size = input_size(data_samples)
        logits = resize_logits(self(feats), size, self.align_corners)
        target = stack_seg_maps(data_samples, size, self.ignore_index).to(logits.device)
        check_labels(target, data_samples, self.num_classes, self.ignore_index)
        if not (target != self.ignore_index).any():
            return {"loss_ce": logits.sum() * 0.0}
        weight = None if self.class_weight is None else logits.new_tensor(self.class_weight)
        loss = F.cross_entropy(logits, target, weight=weight, ignore_index=self.ignore_index)
        return {"loss_ce": loss * self.loss_weight}

    def predict(
        self, feats: dict[str, Tensor], data_samples: Sequence[DataSample], with_logits: bool = False
    ) -> Sequence[DataSample]:
        """Adds ``pred_seg_map`` (H0, W0) int64 at ``ori_shape`` (and ``seg_logits`` if asked)."""
        logits = resize_logits(self(feats), input_size(data_samples), self.align_corners)
        return seg_logits_to_samples(logits, data_samples, with_logits)
