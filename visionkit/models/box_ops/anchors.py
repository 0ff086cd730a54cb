"""SSD default boxes (anchors) as pure functions, one per published setting (DESIGN.md section 2); the
registered generators that a config names and that cache them are in :mod:`.anchor_generators`.

- TF (:func:`tf_ssd_anchors`): TF object detection ``ssd_anchor_generator`` (``create_ssd_anchors``) as in
  ``ssdlite_mobilenet_v2_coco``. Scales ``s_k`` are spaced linearly from ``min_scale`` 0.2 to ``max_scale``
  0.95 over the levels (relative to the shorter input side, so boxes stay square in pixels on non-square
  inputs); per location the boxes are ``(s_k, r)`` for ``r`` in ``aspect_ratios`` (width / height) plus
  ``(sqrt(s_k * s_k+1), 1)`` with ``s_6 = 1``; the lowest level has only three: ``(0.1, 1)``, ``(s_0, 2)``,
  ``(s_0, 1/2)``. Centres ``((j + 0.5) / W_k, (i + 0.5) / H_k)`` relative to the input.
- mmdetection (:func:`mmdet_ssd_anchors`): mmdetection 3.x ``SSDAnchorGenerator`` as in
  ``ssdlite_mobilenetv2-scratch_8xb24-600e_coco``. Sizes are absolute pixels; per location: the ``min``
  square, the ``sqrt(min * max)`` square, then ``min`` with height / width ratios ``1/r, r`` for each ``r`` in
  ``ratios`` (``1/2, 2, 1/3, 3``): mmdet's ``gen_base_anchors`` moves the larger square to second place
  (``indices.insert(1, ...)``). Centres ``(j * stride + stride / 2, i * stride + stride / 2)`` pixels, so for
  stride 107 on a 3x3 map they are 53.5, 160.5, 267.5, not ``(i + 0.5) * 320 / 3``.
- torchvision (:func:`torchvision_ssd_anchors`): torchvision's ``DefaultBoxGenerator`` as in
  ``ssdlite320_mobilenet_v3_large`` (``[[2, 3]] * 6``, ``min_ratio=0.2``, ``max_ratio=0.95``, ``clip=True``).
  Scales ``s_k`` linear from 0.2 to 0.95 plus ``s_6 = 1`` (relative to each input side: boxes are not square
  in pixels on a non-square input); per location ``(s_k, s_k)``, ``(s'_k, s'_k)`` with ``s'_k = sqrt(s_k
  s_k+1)``, then for each ratio ``r`` the (width, height) pairs ``(s_k sqrt(r), s_k / sqrt(r))`` and the
  swapped pair; with ``clip`` each relative width and height is clipped to [0, 1]. Centres ``((j + 0.5) / W_k,
  (i + 0.5) / H_k)``, computed in torchvision's float32 order.

Ordering (all settings, the order the head's outputs are flattened in): level by level; within a level
row-major over locations (y, then x); within a location the boxes in the order above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

# Defaults of the two published settings.
TF_ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)
MMDET_STRIDES = (16, 32, 64, 107, 160, 320)
MMDET_MIN_SIZES = (48, 100, 150, 202, 253, 304)
MMDET_MAX_SIZES = (100, 150, 202, 253, 304, 320)
MMDET_RATIOS = ((2, 3),) * 6
TORCHVISION_RATIOS = ((2, 3),) * 6


def tf_box_specs(
    num_levels: int,
    min_scale: float = 0.2,
    max_scale: float = 0.95,
    aspect_ratios: Sequence[float] = TF_ASPECT_RATIOS,
    interpolated_scale_aspect_ratio: float = 1.0,
    reduce_boxes_in_lowest_layer: bool = True,
) -> list[list[tuple[float, float]]]:
    """Per level, the ``(scale, aspect ratio width/height)`` of each box at one location."""
    if num_levels == 1:
        scales = [min_scale, 1.0]
    else:
        step = (max_scale - min_scale) / (num_levels - 1)
        scales = [min_scale + step * k for k in range(num_levels)] + [1.0]
    specs = []
    for k in range(num_levels):
        if k == 0 and reduce_boxes_in_lowest_layer:
            specs.append([(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)])
            continue
        level = [(scales[k], float(r)) for r in aspect_ratios]
        if interpolated_scale_aspect_ratio > 0:
            level.append((math.sqrt(scales[k] * scales[k + 1]), interpolated_scale_aspect_ratio))
        specs.append(level)
    return specs


def mmdet_box_sizes(
    min_sizes: Sequence[float], max_sizes: Sequence[float], ratios: Sequence[Sequence[float]]
) -> list[list[tuple[float, float]]]:
    """Per level, the ``(width, height)`` in pixels of each box at one location (mmdet 3.x order)."""
    if not len(min_sizes) == len(max_sizes) == len(ratios):
        raise ValueError(
            f"min_sizes, max_sizes and ratios need one entry per level, got "
            f"{len(min_sizes)}, {len(max_sizes)} and {len(ratios)}"
        )
    sizes = []
    for min_size, max_size, level_ratios in zip(min_sizes, max_sizes, ratios, strict=True):
        height_ratios = [1.0]
        for r in level_ratios:
            height_ratios += [1.0 / r, float(r)]
        level = [(min_size / math.sqrt(h), min_size * math.sqrt(h)) for h in height_ratios]
        level.insert(1, (math.sqrt(min_size * max_size),) * 2)
        sizes.append(level)
    return sizes


def grid_boxes(centers_x: Tensor, centers_y: Tensor, box_sizes: Tensor) -> Tensor:
    """Tile boxes over a grid of centres.

    Args:
        centers_x: (W,) pixel x of the column centres; centers_y: (H,) pixel y of the row centres.
        box_sizes: (B, 2) width, height in pixels of the boxes at each location.

    Returns:
        (H * W * B, 4) xyxy pixels, row-major over locations, then box.
    """
    cy, cx = torch.meshgrid(centers_y, centers_x, indexing="ij")
    centers = torch.stack([cx, cy], dim=-1).reshape(-1, 1, 2)
    half = box_sizes.reshape(1, -1, 2) / 2
    return torch.cat([centers - half, centers + half], dim=-1).reshape(-1, 4)


def tf_ssd_anchors(
    input_size: tuple[int, int],
    feature_sizes: Sequence[tuple[int, int]],
    min_scale: float = 0.2,
    max_scale: float = 0.95,
    aspect_ratios: Sequence[float] = TF_ASPECT_RATIOS,
    interpolated_scale_aspect_ratio: float = 1.0,
    reduce_boxes_in_lowest_layer: bool = True,
    device: torch.device | str | None = None,
) -> tuple[Tensor, list[int]]:
    """TF object detection SSD anchors for an input of ``input_size`` (H, W) pixels.

    Returns:
        anchors (A, 4) xyxy in input pixels and the number of anchors of each level (sums to A).
    """
    height, width = input_size
    base = min(height, width)
    specs = tf_box_specs(
        len(feature_sizes),
        min_scale,
        max_scale,
        aspect_ratios,
        interpolated_scale_aspect_ratio,
        reduce_boxes_in_lowest_layer,
    )
    levels = []
    for (feat_h, feat_w), level_specs in zip(feature_sizes, specs, strict=True):
        sizes = [(s * math.sqrt(r) * base, s / math.sqrt(r) * base) for s, r in level_specs]
        centers_x = (torch.arange(feat_w, device=device, dtype=torch.float32) + 0.5) * (width / feat_w)
        centers_y = (torch.arange(feat_h, device=device, dtype=torch.float32) + 0.5) * (height / feat_h)
        levels.append(grid_boxes(centers_x, centers_y, torch.tensor(sizes, device=device)))
    return torch.cat(levels), [len(level) for level in levels]


def mmdet_ssd_anchors(
    feature_sizes: Sequence[tuple[int, int]],
    strides: Sequence[float] = MMDET_STRIDES,
    min_sizes: Sequence[float] = MMDET_MIN_SIZES,
    max_sizes: Sequence[float] = MMDET_MAX_SIZES,
    ratios: Sequence[Sequence[float]] = MMDET_RATIOS,
    device: torch.device | str | None = None,
) -> tuple[Tensor, list[int]]:
    """mmdetection SSD anchors; sizes and strides are absolute pixels, independent of the input size.

    Returns:
        anchors (A, 4) xyxy in input pixels and the number of anchors of each level (sums to A).
    """
    if len(strides) != len(feature_sizes):
        raise ValueError(f"{len(strides)} strides for {len(feature_sizes)} feature maps")
    sizes = mmdet_box_sizes(min_sizes, max_sizes, ratios)
    levels = []
    for (feat_h, feat_w), stride, level_sizes in zip(feature_sizes, strides, sizes, strict=True):
        centers_x = torch.arange(feat_w, device=device, dtype=torch.float32) * stride + stride / 2
        centers_y = torch.arange(feat_h, device=device, dtype=torch.float32) * stride + stride / 2
        levels.append(grid_boxes(centers_x, centers_y, torch.tensor(level_sizes, device=device)))
    return torch.cat(levels), [len(level) for level in levels]


def torchvision_box_sizes(
    min_scale: float, max_scale: float, ratios: Sequence[Sequence[float]], clip: bool = True
) -> list[list[tuple[float, float]]]:
    """Per level, the relative ``(width, height)`` of each box at one location (torchvision's order)."""
    num_levels = len(ratios)
    if num_levels > 1:
        scales = [min_scale + (max_scale - min_scale) * k / (num_levels - 1.0) for k in range(num_levels)]
        scales.append(1.0)
    else:
        scales = [min_scale, max_scale]
    sizes = []
    for k, level_ratios in enumerate(ratios):
        s_prime = math.sqrt(scales[k] * scales[k + 1])
        level = [(scales[k], scales[k]), (s_prime, s_prime)]
        for r in level_ratios:
            w, h = scales[k] * math.sqrt(r), scales[k] / math.sqrt(r)
            level += [(w, h), (h, w)]
        if clip:
            level = [(min(max(w, 0.0), 1.0), min(max(h, 0.0), 1.0)) for w, h in level]
        sizes.append(level)
    return sizes


def torchvision_ssd_anchors(
    input_size: tuple[int, int],
    feature_sizes: Sequence[tuple[int, int]],
    min_scale: float = 0.2,
    max_scale: float = 0.95,
    ratios: Sequence[Sequence[float]] = TORCHVISION_RATIOS,
    clip: bool = True,
    device: torch.device | str | None = None,
) -> tuple[Tensor, list[int]]:
    """torchvision ``DefaultBoxGenerator`` anchors for an input of ``input_size`` (H, W) pixels.

    Computed as torchvision does (relative centre and size in float32, then ``(c -+ wh / 2) * (W, H)``),
    so the anchors are bit-identical to its.

    Returns:
        anchors (A, 4) xyxy in input pixels and the number of anchors of each level (sums to A).
    """
    if len(ratios) != len(feature_sizes):
        raise ValueError(f"{len(ratios)} levels of ratios for {len(feature_sizes)} feature maps")
    height, width = input_size
    scale = torch.tensor([width, height], device=device)
    levels = []
    for (feat_h, feat_w), level_sizes in zip(
        feature_sizes, torchvision_box_sizes(min_scale, max_scale, ratios, clip), strict=True
    ):
        cx = ((torch.arange(feat_w, device=device) + 0.5) / feat_w).float()
        cy = ((torch.arange(feat_h, device=device) + 0.5) / feat_h).float()
        cy, cx = torch.meshgrid(cy, cx, indexing="ij")
        centers = torch.stack([cx.reshape(-1), cy.reshape(-1)], dim=-1).repeat_interleave(len(level_sizes), 0)
        wh = torch.tensor(level_sizes, dtype=torch.float32, device=device).repeat(feat_h * feat_w, 1)
        levels.append(torch.cat([(centers - 0.5 * wh) * scale, (centers + 0.5 * wh) * scale], dim=-1))
    return torch.cat(levels), [len(level) for level in levels]


def flatten_levels(outs: list[Tensor], channels: int) -> Tensor:
    """Per-level head outputs (N, A_k * channels, H, W) -> (N, sum_k H * W * A_k, channels) in anchor order.

    Written without ``len(tensor)`` so an ONNX export keeps the batch axis dynamic, and as one reshape per
    level: XNNPACK could not build the INT8 ExecuTorch program from a flatten + unflatten pair ("Failed to
    create squeeze node").
    """
    return torch.cat(
        [
            out.permute(0, 2, 3, 1).reshape(
                out.shape[0], out.shape[2] * out.shape[3] * (out.shape[1] // channels), channels
            )
            for out in outs
        ],
        dim=1,
    )
