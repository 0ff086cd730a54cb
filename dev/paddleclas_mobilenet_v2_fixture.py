"""Check the PaddleClas MobileNetV2 configs against PaddlePaddle running PaddleClas's own code, and write the
test fixture.

In a side virtualenv with ``paddlepaddle`` and the ``paddleclas`` wheel (installed ``--no-deps``: its pins
break visionkit's stack, and importing the ``ppcls`` package needs faiss), this executes PaddleClas's
``ppcls/arch/backbone/model_zoo/mobilenet_v2.py`` and ``deploy/python/preprocess.py`` (PaddleClas's
inference transforms; the wheel does not ship ``ppcls/data``) by path, their parent packages stubbed so that
the wheel's ``__init__.py`` files never run, then:

1. for every width (0.25 ... 2.0) checks that PaddleClas's state dict is ``paddleclas_layout(scale)`` of
   ``tests/models/paddleclas_reference.py``, name by name, shape by shape, in order, and records its digest;
2. at width 0.25 (the smallest file, and the width whose ``int(c * scale)`` differs most from multiples of
   8) sets the seeded weights, measures the BatchNorm statistics in training mode on a batch of four other
   photos (rounded to float16, so that the fixture stays small, then set as they are), and runs PaddleClas's
   evaluation transforms (DecodeImage's RGB, ResizeImage(resize_short=256), CropImage(224),
   NormalizeImage) and the model on the photos;
3. saves the stem and first stage with ``paddle.save`` (``tests/models/fixtures/
   paddleclas_mobilenet_v2_stem.pdparams``, a file as PaddlePaddle writes it) and prints its opcodes;
4. loads visionkit's config with the same weights and prints the differences of the crops and logits; then
   does the same at the other five widths (not stored: the fixture stays small).

Run from the repository root (docs/model_zoo.md says how the virtualenv is made):

    /work/venvs/paddle/bin/python dev/paddleclas_mobilenet_v2_fixture.py
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import json
import pickletools
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.models.paddleclas_reference import (  # noqa: E402
    FIXTURE,
    PHOTOS,
    SCALES,
    SMALL_FILE,
    is_statistic,
    layout_digest,
    paddleclas_layout,
    seeded_weights,
)
from tests.photos import photo  # noqa: E402

SEED, SCALE = 29, 0.25
CALIBRATION = ("astronaut", "rocket", "hubble_deep_field", "immunohistochemistry")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(FIXTURE), help="fixture JSON to write")
    parser.add_argument("--small-file", default=str(SMALL_FILE), help=".pdparams written by paddle.save")
    return parser.parse_args()


ARGS = parse_args() if __name__ == "__main__" else None  # --help answers without paddle installed

import numpy as np  # noqa: E402
import paddle  # noqa: E402


def paddleclas_module(dotted: str) -> types.ModuleType:
    """``paddleclas.<dotted>`` executed from the installed wheel's file, its parent packages stubbed (the
    wheel's ``paddleclas/__init__.py`` imports the whole tool, faiss included); ``ppcls`` is the wheel's
    ``paddleclas/ppcls`` folder, which its modules import by that name."""
    spec = importlib.util.find_spec("paddleclas")
    if spec is None:
        raise SystemExit("paddleclas is not installed: see docs/model_zoo.md for the side virtualenv")
    root = Path(spec.submodule_search_locations[0])
    parts = dotted.split(".")
    top, base = ("ppcls", root / "ppcls") if parts[0] == "ppcls" else ("paddleclas", root)
    parts = parts[1:] if top == "ppcls" else parts
    for depth in range(len(parts)):
        name = ".".join([top, *parts[:depth]])
        if name not in sys.modules:
            package = types.ModuleType(name)
            package.__path__ = [str(base.joinpath(*parts[:depth]))]
            sys.modules[name] = package
    return importlib.import_module(".".join([top, *parts]))


def build(zoo: types.ModuleType, scale: float):
    """PaddleClas's ``MobileNet(scale)``; it names its parameters, and PaddlePaddle refuses a name twice in a
    process unless each model is built under its own name guard."""
    with paddle.utils.unique_name.guard():
        return zoo.MobileNet(scale=scale)


def check_layouts(zoo: types.ModuleType) -> dict:
    """PaddleClas's state dict at every width against paddleclas_layout; the digests, key and value counts."""
    layouts = {}
    for scale in SCALES:
        model = build(zoo, scale)
        actual = [(name, tuple(value.shape)) for name, value in model.state_dict().items()]
        expected = paddleclas_layout(scale)
        if actual != expected:
            wrong = next((a, e) for a, e in zip(actual, expected, strict=False) if a != e)
            raise SystemExit(f"x{scale}: PaddleClas's layout differs from paddleclas_layout: {wrong}")
        values = sum(int(np.prod(shape)) for _, shape in actual)
        layouts[str(scale)] = dict(digest=layout_digest(expected), entries=len(actual), values=values)
        print(f"x{scale}: {len(actual)} entries, {values} values (parameters and BN statistics) as expected")
    return layouts


def measured_statistics(model, layout, ops: types.ModuleType) -> np.ndarray:
    """BN means and variances of the model after one training-mode batch of :data:`CALIBRATION`'s photos
    through PaddleClas's evaluation transforms (other photos than the compared ones)."""
    for layer in model.sublayers():
        if isinstance(layer, paddle.nn.BatchNorm):
            layer._momentum = 0.0  # running = batch statistics
    model.train()
    images = np.stack([paddle_crop_and_input(ops, photo(name))[1] for name in CALIBRATION])
    with paddle.no_grad():
        model(paddle.to_tensor(images))
    state = model.state_dict()
    return np.concatenate([state[name].numpy().ravel() for name, _ in layout if is_statistic(name)])


def paddle_crop_and_input(ops: types.ModuleType, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PaddleClas's Eval transforms of MobileNetV2.yaml on an RGB image: the uint8 crop, the network input."""
    crop = ops.CropImage(size=224)(ops.ResizeImage(resize_short=256)(image))
    normalize = ops.NormalizeImage(
        scale=1.0 / 255.0, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225], order=""
    )
    return crop, normalize(crop).transpose(2, 0, 1)


def write_small_file(model, path: str) -> set[str]:
    """paddle.save of the stem's and the first stage's entries; the pickle opcodes it wrote."""
    state = {
        name: value for name, value in model.state_dict().items() if name.startswith(("conv1.", "conv2."))
    }
    paddle.save(state, path)
    data = Path(path).read_bytes()
    return {op.name for op, _, _ in pickletools.genops(data)}


def paddle_reference(zoo: types.ModuleType, ops: types.ModuleType, scale: float) -> tuple:
    """PaddleClas's MobileNet(scale) with the seeded weights and BN statistics it measured (float16):
    the model, the weights, the statistics and each photo's crop digest and logits."""
    layout = paddleclas_layout(scale)
    model = build(zoo, scale)
    statistics_count = sum(int(np.prod(shape)) for name, shape in layout if is_statistic(name))
    model.set_state_dict(seeded_weights(layout, SEED, np.ones(statistics_count, np.float32)))
    statistics = measured_statistics(model, layout, ops).astype(np.float16)
    weights = seeded_weights(layout, SEED, statistics)
    model.set_state_dict(weights)
    model.eval()
    photos = {}
    for name in PHOTOS:
        crop, network_input = paddle_crop_and_input(ops, photo(name))
        with paddle.no_grad():
            logits = model(paddle.to_tensor(network_input[None]))[0].numpy()
        photos[name] = dict(crop_sha256=hashlib.sha256(crop.tobytes()).hexdigest(), logits=logits.tolist())
    return model, weights, statistics, photos


def compare_with_visionkit(scale: float, weights: dict, photos: dict) -> None:
    """visionkit's config of that width on the same weights: crop and logit differences, printed."""
    import torch
    from mmengine.config import Config

    from tests.models.test_paddleclas_zoo import CONFIGS
    from tests.photos import pipeline_input
    from visionkit.models.checkpoint_formats import numpy_to_tensors
    from visionkit.registry import MODELS

    cfg = Config.fromfile(str(ROOT / "configs" / CONFIGS[scale]))
    model = MODELS.build(cfg.model).eval()
    model.load_state_dict(numpy_to_tensors(weights))
    for name, entry in photos.items():
        crop = pipeline_input(cfg, photo(name))
        digest = hashlib.sha256(crop.permute(1, 2, 0).numpy().tobytes()).hexdigest()
        with torch.no_grad():
            logits = model(model.data_preprocessor({"inputs": [crop]})["inputs"], mode="tensor")[0]
        expected = torch.tensor(entry["logits"])
        crops = "equal" if digest == entry["crop_sha256"] else "DIFFER"
        print(
            f"x{scale} {CONFIGS[scale]} {name}: crops {crops}, logits max |diff| "
            f"{(logits - expected).abs().max():.2e} of {expected.abs().max():.2f}"
        )


def main(args: argparse.Namespace) -> None:
    zoo = paddleclas_module("ppcls.arch.backbone.model_zoo.mobilenet_v2")
    ops = paddleclas_module("deploy.python.preprocess")
    layouts = check_layouts(zoo)
    model, weights, statistics, photos = paddle_reference(zoo, ops, SCALE)
    opcodes = write_small_file(model, args.small_file)
    print(f"paddle.save wrote the opcodes {sorted(opcodes)}")
    fixture = dict(
        paddle=paddle.__version__,
        seed=SEED,
        scale=SCALE,
        layouts=layouts,
        statistics_float16=base64.b64encode(statistics.tobytes()).decode(),
        photos=photos,
        small_file_opcodes=sorted(opcodes),
    )
    Path(args.out).write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {args.out} ({Path(args.out).stat().st_size} bytes) and {args.small_file}")
    compare_with_visionkit(SCALE, weights, photos)
    for scale in (s for s in SCALES if s != SCALE):  # the other widths: compared, not stored
        _, weights, _, photos = paddle_reference(zoo, ops, scale)
        compare_with_visionkit(scale, weights, photos)


if __name__ == "__main__":
    main(ARGS)
