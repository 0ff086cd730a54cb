"""PaddleClas's MobileNetV2 as its state dict lays it out, and the seeded weights its fixture was made with.

Shared by tests/models/test_paddleclas_zoo.py and dev/paddleclas_mobilenet_v2_fixture.py (which checks
:func:`paddleclas_layout` against PaddlePaddle's own model, name by name and shape by shape, before it writes
the fixture). The layout is transcribed from ``ppcls/arch/backbone/model_zoo/mobilenet_v2.py``: stem
``conv1`` (3x3 to ``int(32 * scale)``), stages ``conv2`` .. ``conv8`` of inverted residual units
(``_first_block``, then ``conv{i}_{j}``), each a 1x1 expansion to ``int(round(in * t))`` (t=1 included),
a 3x3 depthwise conv and a 1x1 linear conv; ``conv9`` to ``int(1280 * scale)`` above 1, else 1280; ``out``,
a Linear stored (in, out). Each unit is ``_conv`` (no bias) and ``_batch_norm`` (weight, bias, ``_mean``,
``_variance``).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import numpy as np

STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
SCALES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
PHOTOS = ("chelsea", "coffee")  # 300x451 and 400x600
FIXTURE = Path(__file__).parent / "fixtures/paddleclas_mobilenet_v2_outputs.json"
SMALL_FILE = Path(__file__).parent / "fixtures/paddleclas_mobilenet_v2_stem.pdparams"
NAME_TABLE = "StructuredToParameterName@@"


def _unit(prefix: str, cin: int, cout: int, kernel: int, groups: int = 1) -> list[tuple[str, tuple]]:
    norm = [(f"{prefix}._batch_norm.{p}", (cout,)) for p in ("weight", "bias", "_mean", "_variance")]
    return [(f"{prefix}._conv.weight", (cout, cin // groups, kernel, kernel)), *norm]


def paddleclas_layout(scale: float, class_num: int = 1000) -> list[tuple[str, tuple]]:
    """(name, shape) of every entry of PaddleClas's ``MobileNet(scale)`` state dict, in its order."""
    stem = int(32 * scale)
    layout = _unit("conv1", 3, stem, 3)
    in_c = stem
    for i, (t, c, n, _) in enumerate(STAGES, start=2):
        out_c = int(c * scale)
        for j in range(1, n + 1):
            block = f"conv{i}._first_block" if j == 1 else f"conv{i}.conv{i}_{j}"
            cin = in_c if j == 1 else out_c
            hidden = round(cin * t)  # int(round(num_in_filter * expansion_factor))
            layout += _unit(f"{block}._expand_conv", cin, hidden, 1)
            layout += _unit(f"{block}._bottleneck_conv", hidden, hidden, 3, groups=hidden)
            layout += _unit(f"{block}._linear_conv", hidden, out_c, 1)
        in_c = out_c
    final = int(1280 * scale) if scale > 1.0 else 1280
    layout += _unit("conv9", in_c, final, 1)
    return [*layout, ("out.weight", (final, class_num)), ("out.bias", (class_num,))]


def layout_digest(layout: list[tuple[str, tuple]]) -> str:
    """sha256 of the layout as JSON: names, shapes and order."""
    return hashlib.sha256(json.dumps([[name, list(shape)] for name, shape in layout]).encode()).hexdigest()


def is_statistic(name: str) -> bool:
    return name.endswith(("._mean", "._variance"))


def seeded_weights(
    layout: list[tuple[str, tuple]], seed: int, statistics: np.ndarray
) -> dict[str, np.ndarray]:
    """float32 weights for ``layout`` from ``numpy.random.default_rng(seed)``: convs He-normal (fan out), BN
    affines around (1, 0) with spread 0.3, the Linear N(0, 0.05); the BN means and variances, in layout
    order, from ``statistics`` (measured on images by PaddlePaddle: the fixture's)."""
    rng = np.random.default_rng(seed)
    weights, offset = {}, 0
    for name, shape in layout:
        size = int(np.prod(shape))
        if is_statistic(name):
            weights[name] = statistics[offset : offset + size].astype(np.float32).reshape(shape)
            offset += size
            continue
        draw = rng.standard_normal(shape, dtype=np.float32)
        if name.endswith("_conv.weight"):
            draw *= np.float32(np.sqrt(2.0 / (shape[0] * shape[2] * shape[3])))
        elif name.endswith("_batch_norm.weight"):
            draw = np.float32(1) + np.float32(0.3) * draw
        else:  # BN biases, the Linear
            draw *= np.float32(0.3 if name.endswith("_batch_norm.bias") else 0.05)
        weights[name] = draw
    if offset != len(statistics):
        raise ValueError(f"{len(statistics)} statistics for a layout that takes {offset}")
    return weights


def write_pdparams(path: Path, weights: dict[str, np.ndarray]) -> Path:
    """Save ``weights`` as ``paddle.save`` saves a state dict: pickle protocol 4, the name table added."""
    state = dict(weights)
    state[NAME_TABLE] = {name: f"param_{i}" for i, name in enumerate(weights)}
    path.write_bytes(pickle.dumps(state, protocol=4))
    return path
