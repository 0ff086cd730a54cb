"""Write the TF fixtures of ``tests/models/test_tf_checkpoints.py``: TF executes the paper's three published
networks, as the TF research code defines them, and TF's own saver writes their weights.

The research code (TF-slim's ``nets/mobilenet``, TF DeepLab, the TF object detection API) is on no package
index and needs TF 1; its networks are written here again with ``tf.nn`` ops, following that code layer by
layer: ``conv2d`` / ``depthwise_conv2d`` with ``padding='SAME'``, batch norm (eps 1e-3 in MobileNetV2, 1e-5
in DeepLab's head), ReLU6, TF 1's ``resize_bilinear`` (``align_corners`` as each uses it), the box coder, the
SSD anchor generator (``create_ssd_anchors`` / ``tile_anchors``) and the object detection API's
post-processing (sigmoid, per-class ``non_max_suppression``, ``clip_window``). Variables carry the releases'
names (``MobilenetV2/expanded_conv_3/depthwise/depthwise_weights``...) and are saved by
``tf.compat.v1.train.Saver`` as TensorBundles; each checkpoint is packed as a ``.tar.gz`` like a release.

Weights are random: kernels on a grid of 1/8 of their He scale, 1x1 kernels mostly zero (so the archives
compress to a few hundred kB; every layer still mixes its inputs), BatchNorm affines random and its statistics
measured on the photos layer by layer, variances floored at a tenth of the layer's mean (so outputs depend
on the input, which the tool prints and the tests check, and float32 rounding stays small). Reduced where
the test still checks what matters: the classifier at depth multiplier 0.35 with 10 classes + background at
96x96 (every stride-2 layer sees an even size: TF pads after only), SSDLite with 10 classes + background.

SSDLite runs in float64 from its float32 variables (the saved file stays float32, as the release is), after
TF's float32 resize: with these random weights float32 rounding alone moves a few boxes by up to 0.04 px,
where the test asks 1e-2. TF's NMS kernel takes float32: it selects on float32 copies, and the boxes and
scores it keeps are the float64 ones.

Needs ``tensorflow-cpu`` (not a visionkit dependency), in a side virtualenv (docs/model_zoo.md):

    python -m venv /work/venvs/tf && /work/venvs/tf/bin/pip install tensorflow-cpu==2.21.0

Then, from the repository root (the same TF version writes the same weights and outputs; the archives differ
only in gzip's timestamp):

    /work/venvs/tf/bin/python dev/tf_reference_fixtures.py --photo-dir \
        "$(python -c 'import os, skimage.data; print(os.path.dirname(skimage.data.__file__))')"
"""

from __future__ import annotations

import argparse
import json
import math
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests/models/fixtures/tf"
# TF-slim's V2_DEF: (t, c, n, s) per stage after the stem (DESIGN.md section 1).
STAGES = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
RNG = np.random.default_rng(30)


def make_divisible(value: float, divisor: int = 8) -> int:
    """TF-slim's ``_make_divisible`` (min_value = divisor)."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


class Net:
    """Variables by TF name, created on first use (random), and the forward pass's ops.

    ``calibrate=True``: every batch norm sets its moving statistics to its input's batch moments first.
    ``dtype``: what the ops compute in; the variables (what the saver writes) stay float32 as in the releases,
    cast to ``dtype`` where used.
    """

    def __init__(self, density: float = 0.15, dtype: tf.DType = tf.float32) -> None:
        self.variables: dict[str, tf.Variable] = {}
        self.density, self.calibrate, self.dtype = density, False, dtype

    def var(self, name: str, shape: tuple[int, ...], kind: str) -> tf.Variable:
        if name not in self.variables:
            self.variables[name] = tf.Variable(_draw(shape, kind, self.density), name=name)
        return self.variables[name]

    def value(self, name: str, shape: tuple[int, ...], kind: str) -> tf.Tensor:
        """The variable ``name`` as a tensor of the ops' ``dtype``."""
        return tf.cast(self.var(name, shape, kind), self.dtype)

    def batch_norm(self, x: tf.Tensor, scope: str, eps: float) -> tf.Tensor:
        c = x.shape[-1]
        mean = self.var(f"{scope}/BatchNorm/moving_mean", (c,), "zeros")
        variance = self.var(f"{scope}/BatchNorm/moving_variance", (c,), "ones")
        if self.calibrate:
            batch_mean, batch_var = tf.nn.moments(x, axes=[0, 1, 2])
            mean.assign(tf.cast(batch_mean, tf.float32))
            # floored at 1/10 of the layer's mean variance: a near-constant channel would otherwise scale its
            # float32 rounding by up to 1/sqrt(eps), and 30 such layers make TF's and PyTorch's roundings
            # differ by more than the comparison's tolerance (boxes off by ~1 px at 300x300)
            variance.assign(tf.cast(tf.maximum(batch_var, 0.1 * tf.reduce_mean(batch_var)), tf.float32))
        gamma = self.value(f"{scope}/BatchNorm/gamma", (c,), "gamma")
        beta = self.value(f"{scope}/BatchNorm/beta", (c,), "beta")
        mean, variance = tf.cast(mean, self.dtype), tf.cast(variance, self.dtype)
        return tf.nn.batch_normalization(x, mean, variance, beta, gamma, eps)

    def conv(self, x, scope, out, k=1, stride=1, rate=1, act=tf.nn.relu6, eps=1e-3, bias=False):
        """slim.conv2d: SAME padding, batch norm unless ``bias`` (then biases, no norm)."""
        w = self.value(f"{scope}/weights", (k, k, x.shape[-1], out), "kernel" if k > 1 else "pointwise")
        y = tf.nn.conv2d(x, w, strides=stride, padding="SAME", dilations=rate)
        if bias:
            return y + self.value(f"{scope}/biases", (out,), "bias")
        y = self.batch_norm(y, scope, eps)
        return act(y) if act is not None else y

    def depthwise(self, x, scope, stride=1, rate=1, eps=1e-3):
        """slim.separable_conv2d(num_outputs=None): 3x3 depthwise, SAME, batch norm, ReLU6."""
        w = self.value(f"{scope}/depthwise_weights", (3, 3, x.shape[-1], 1), "depthwise")
        y = tf.nn.depthwise_conv2d(
            x, w, strides=[1, stride, stride, 1], padding="SAME", dilations=[rate, rate]
        )
        return tf.nn.relu6(self.batch_norm(y, scope, eps))


def _draw(shape: tuple[int, ...], kind: str, density: float) -> np.ndarray:
    if kind in ("zeros", "ones"):
        return np.full(shape, 0.0 if kind == "zeros" else 1.0, np.float32)
    if kind == "gamma":
        return RNG.uniform(0.5, 1.5, shape).astype(np.float32)
    if kind in ("beta", "bias"):
        return (RNG.normal(0, 0.5, shape)).astype(np.float32)
    fan_in = int(np.prod(shape[:-1])) if kind != "depthwise" else int(np.prod(shape[:2]))
    scale = math.sqrt(2.0 / fan_in)
    values = np.round(RNG.normal(0, 1, shape) * 8).clip(-24, 24) / 8 * scale
    if kind == "pointwise":  # mostly zero: compressible, and each output still mixes several inputs
        values *= RNG.random(shape) < density
        values /= math.sqrt(density)
    return values.astype(np.float32)


def mobilenet_v2(net: Net, x, scope: str, depth: float, final_layer: int, output_stride: int = 32) -> dict:
    """TF-slim ``mobilenet_base``: endpoints ``layer_{n}`` and ``layer_{n}/expansion_output``."""
    ends = {}
    x = net.conv(x, f"{scope}/Conv", make_divisible(32 * depth), k=3, stride=2)
    ends["layer_1"], stride, rate, index = x, 2, 1, 0
    for t, c, n, s in STAGES:
        for i in range(n):
            layer = index + 2
            if layer > final_layer:
                return ends
            block_stride = s if i == 0 else 1
            if stride == output_stride and block_stride > 1:
                layer_stride, layer_rate = 1, rate
                rate *= block_stride
            else:
                layer_stride, layer_rate = block_stride, 1 if stride < output_stride else rate
                stride *= block_stride
            name = f"{scope}/expanded_conv" + (f"_{index}" if index else "")
            inputs, hidden = x, x
            if t != 1:
                hidden = net.conv(x, f"{name}/expand", make_divisible(x.shape[-1] * t))
                ends[f"layer_{layer}/expansion_output"] = hidden
            hidden = net.depthwise(hidden, f"{name}/depthwise", layer_stride, layer_rate)
            x = net.conv(hidden, f"{name}/project", make_divisible(c * depth), act=None)
            if layer_stride == 1 and inputs.shape[-1] == x.shape[-1]:
                x = x + inputs
            ends[f"layer_{layer}"] = x
            index += 1
    ends["layer_19"] = net.conv(x, f"{scope}/Conv_1", make_divisible(1280 * max(1.0, depth)))
    return ends


def tf1_resize(images, size, align_corners=False):
    return tf.compat.v1.image.resize_bilinear(
        images, size, align_corners=align_corners, half_pixel_centers=False
    )


# --- TF-slim classifier -------------------------------------------------------------------------------


def classifier(net: Net, images, depth: float, classes: int):
    """``mobilenet_v2.mobilenet`` (finegrain_classification_mode: 1280 kept): logits (N, classes)."""
    x = mobilenet_v2(net, images, "MobilenetV2", depth, 19)["layer_19"]
    pooled = tf.reduce_mean(x, axis=[1, 2], keepdims=True)
    logits = net.conv(pooled, "MobilenetV2/Logits/Conv2d_1c_1x1", classes, bias=True)
    return tf.squeeze(logits, [1, 2])


def slim_eval_preprocess(image: np.ndarray, size: int):
    """``inception_preprocessing.preprocess_for_eval``: central_crop(0.875), TF 1 bilinear, to [-1, 1]."""
    x = tf.image.convert_image_dtype(tf.constant(image), tf.float32)
    x = tf.image.central_crop(x, 0.875)
    x = tf1_resize(x[None], [size, size])[0]
    return (x - 0.5) * 2.0


# --- TF DeepLab ----------------------------------------------------------------------------------------


def deeplab(net: Net, images, classes: int):
    """``model.py`` with ``model_variant=mobilenet_v2``, OS 16, no atrous rates, no decoder: logits at the
    input size (resize_bilinear align_corners=True) and the features' (N, h, w, classes)."""
    features = mobilenet_v2(net, images, "MobilenetV2", 1.0, 18, output_stride=16)["layer_18"]
    h, w = features.shape[1:3]
    pooled = tf.reduce_mean(features, axis=[1, 2], keepdims=True)  # avg_pool2d over the whole canvas
    pool = net.conv(pooled, "image_pooling", 256, act=tf.nn.relu, eps=1e-5)
    pool = tf1_resize(pool, [h, w], align_corners=True)
    aspp0 = net.conv(features, "aspp0", 256, act=tf.nn.relu, eps=1e-5)
    x = net.conv(tf.concat([pool, aspp0], axis=3), "concat_projection", 256, act=tf.nn.relu, eps=1e-5)
    logits = net.conv(x, "logits/semantic", classes, bias=True)
    return tf1_resize(logits, images.shape[1:3], align_corners=True)


def deeplab_preprocess(image: np.ndarray, canvas: int = 513):
    """Eval: the image top-left on a ``canvas`` square of 127.5, then (2 / 255) x - 1."""
    x = tf.cast(tf.constant(image), tf.float32)
    x = tf.pad(x - 127.5, [[0, canvas - image.shape[0]], [0, canvas - image.shape[1]], [0, 0]]) + 127.5
    return (2.0 / 255.0) * x - 1.0


# --- TF object detection: SSDLite ----------------------------------------------------------------------

EXTRA_DEPTHS = (512, 256, 256, 128)
ASPECT_RATIOS = (1.0, 2.0, 0.5, 3.0, 0.3333)


def ssdlite_features(net: Net, images) -> list:
    """``ssd_mobilenet_v2_feature_extractor`` with ``use_depthwise``: six maps."""
    scope = "FeatureExtractor/MobilenetV2"
    ends = mobilenet_v2(net, images, scope, 1.0, 19)
    maps, x = [ends["layer_15/expansion_output"], ends["layer_19"]], ends["layer_19"]
    for index, depth in enumerate(EXTRA_DEPTHS, start=2):
        x = net.conv(x, f"{scope}/layer_19_1_Conv2d_{index}_1x1_{depth // 2}", depth // 2)
        name = f"{scope}/layer_19_2_Conv2d_{index}_3x3_s2_{depth}"
        x = net.conv(net.depthwise(x, f"{name}_depthwise", stride=2), name, depth)
        maps.append(x)
    return maps


def ssd_anchors(feature_sizes: list) -> np.ndarray:
    """``create_ssd_anchors(num_layers=6, min_scale=0.2, max_scale=0.95, aspect_ratios, reduce_boxes...)``
    then ``tile_anchors``: (A, 4) [ymin, xmin, ymax, xmax] normalised, float32 as TF computes it."""
    scales = [0.2 + (0.95 - 0.2) * i / 5 for i in range(6)] + [1.0]
    anchors = []
    for layer, (h, w) in enumerate(feature_sizes):
        if layer == 0:
            specs = [(0.1, 1.0), (scales[0], 2.0), (scales[0], 0.5)]
        else:
            specs = [(scales[layer], r) for r in ASPECT_RATIOS] + [
                (math.sqrt(scales[layer] * scales[layer + 1]), 1.0)
            ]
        s = tf.constant([sp[0] for sp in specs], tf.float32)
        ratio_sqrts = tf.sqrt(tf.constant([sp[1] for sp in specs], tf.float32))
        heights, widths = s / ratio_sqrts, s * ratio_sqrts
        y = tf.cast(tf.range(h), tf.float32) * (1.0 / h) + 0.5 * (1.0 / h)
        x = tf.cast(tf.range(w), tf.float32) * (1.0 / w) + 0.5 * (1.0 / w)
        # tile_anchors' ops.meshgrid: (H, W, boxes): a location's boxes consecutive, locations row-major
        yc = tf.broadcast_to(y[:, None, None], [h, w, len(specs)])
        xc = tf.broadcast_to(x[None, :, None], [h, w, len(specs)])
        hs = tf.broadcast_to(heights[None, None], [h, w, len(specs)])
        ws = tf.broadcast_to(widths[None, None], [h, w, len(specs)])
        centers = tf.reshape(tf.stack([yc, xc], axis=-1), [-1, 2])
        sizes = tf.reshape(tf.stack([hs, ws], axis=-1), [-1, 2])
        anchors.append(tf.concat([centers - 0.5 * sizes, centers + 0.5 * sizes], axis=1))
    return tf.concat(anchors, axis=0)


def ssdlite(net: Net, images, classes: int):
    """Box encodings (N, A, 4) (ty, tx, th, tw), class logits (N, A, classes + 1), anchors (A, 4)."""
    maps = ssdlite_features(net, images)
    encodings, logits = [], []
    for k, x in enumerate(maps):
        boxes = 3 if k == 0 else 6
        scope = f"BoxPredictor_{k}"
        e = net.conv(
            net.depthwise(x, f"{scope}/BoxEncodingPredictor_depthwise"),
            f"{scope}/BoxEncodingPredictor",
            boxes * 4,
            bias=True,
        )
        c = net.conv(
            net.depthwise(x, f"{scope}/ClassPredictor_depthwise"),
            f"{scope}/ClassPredictor",
            boxes * (classes + 1),
            bias=True,
        )
        encodings.append(tf.reshape(e, [e.shape[0], -1, 4]))
        logits.append(tf.reshape(c, [c.shape[0], -1, classes + 1]))
    sizes = [tuple(m.shape[1:3]) for m in maps]
    return tf.concat(encodings, 1), tf.concat(logits, 1), ssd_anchors(sizes)


def decode(encodings, anchors):
    """``FasterRcnnBoxCoder(scale_factors=[10, 10, 5, 5]).decode``, in the encodings' dtype."""
    ymin, xmin, ymax, xmax = tf.unstack(tf.cast(anchors, encodings.dtype), axis=1)
    ha, wa = ymax - ymin, xmax - xmin
    yca, xca = ymin + ha / 2.0, xmin + wa / 2.0
    ty, tx, th, tw = tf.unstack(encodings, axis=1)
    ty, tx, th, tw = ty / 10.0, tx / 10.0, th / 5.0, tw / 5.0
    w, h = tf.exp(tw) * wa, tf.exp(th) * ha
    yc, xc = ty * ha + yca, tx * wa + xca
    return tf.stack([yc - h / 2.0, xc - w / 2.0, yc + h / 2.0, xc + w / 2.0], axis=1)


def od_postprocess(boxes, scores):
    """``multiclass_non_max_suppression(score_thresh=1e-8, iou_thresh=0.6, max_size_per_class=100,
    max_total_size=100, clip_window=[0, 0, 1, 1])``: one image's boxes (M, 4), scores (M,), classes (M,).

    TF's NMS kernel takes float32 only: it selects on float32 copies; the kept boxes and scores are the
    inputs' own (float64 here), and so are the ranking over classes and the clipping.
    """
    selected = []
    boxes32 = tf.cast(boxes, tf.float32)
    for c in range(scores.shape[1]):
        scores32 = tf.cast(scores[:, c], tf.float32)
        keep = tf.image.non_max_suppression(boxes32, scores32, 100, iou_threshold=0.6, score_threshold=1e-8)
        selected.append((tf.gather(boxes, keep), tf.gather(scores[:, c], keep), tf.fill(tf.shape(keep), c)))
    all_boxes = tf.concat([s[0] for s in selected], 0)
    all_scores = tf.concat([s[1] for s in selected], 0)
    all_classes = tf.concat([s[2] for s in selected], 0)
    order = tf.nn.top_k(all_scores, k=tf.shape(all_scores)[0]).indices
    all_boxes, all_scores, all_classes = (tf.gather(t, order) for t in (all_boxes, all_scores, all_classes))
    clipped = tf.clip_by_value(all_boxes, 0.0, 1.0)  # clip_to_window, then areas > 0 kept
    area = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    kept = tf.reshape(tf.where(area > 0), [-1])
    return (tf.gather(t, kept)[:100] for t in (clipped, all_scores, all_classes))


def od_preprocess(image: np.ndarray):
    """``fixed_shape_resizer`` 300x300 (TF 1 bilinear: its kernel outputs float32), then (2 / 255) x - 1
    in float64."""
    x = tf1_resize(tf.cast(tf.constant(image), tf.float32)[None], [300, 300])[0]
    return (2.0 / 255.0) * tf.cast(x, tf.float64) - 1.0


# --- driver --------------------------------------------------------------------------------------------


def read_photo(photo_dir: Path, name: str) -> np.ndarray:
    return tf.io.decode_png(tf.io.read_file(str(photo_dir / f"{name}.png")), channels=3).numpy()


def save_release(net: Net, archive: Path, folder: str) -> None:
    """TF's saver writes the variables under their names; packed as a release ``.tar.gz``."""
    with tempfile.TemporaryDirectory() as scratch:
        saver = tf.compat.v1.train.Saver(
            var_list=dict(net.variables), write_version=tf.compat.v1.train.SaverDef.V2
        )
        prefix = saver.save(None, str(Path(scratch) / "model.ckpt"), write_meta_graph=False)
        with tarfile.open(archive, "w:gz", compresslevel=9) as tar:
            for path in sorted(Path(scratch).glob("model.ckpt.*")):
                tar.add(path, arcname=f"{folder}/{path.name}")
        del prefix


def run(net: Net, forward, inputs):
    """Calibrate batch norm on ``inputs``, then run inference on them."""
    net.calibrate = True
    forward(inputs)
    net.calibrate = False
    return forward(inputs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--photo-dir", type=Path, required=True, help="skimage's data folder (the photos)")
    parser.add_argument("--out", type=Path, default=FIXTURES)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    outputs = {"tensorflow": tf.__version__}

    names = ("astronaut", "coffee", "chelsea")
    photos = {n: read_photo(args.photo_dir, n) for n in names}

    net = Net()
    images = tf.stack([slim_eval_preprocess(photos[n], 96) for n in names])
    logits = run(net, lambda x: classifier(net, x, 0.35, 11), images).numpy()
    spread = float(np.abs(logits[0] - logits[1]).max() / np.abs(logits).max())
    print(f"classifier: logits {logits.shape}, images differ by {spread:.2f} of the range")
    save_release(net, args.out / "mobilenet_v2_0.35_96.tar.gz", ".")
    outputs["classifier"] = {"photos": names, "size": 96, "depth": 0.35, "logits": logits.tolist()}

    net = Net()
    seg_names = ("astronaut", "chelsea")
    images = tf.stack([deeplab_preprocess(photos[n]) for n in seg_names])
    seg = run(net, lambda x: deeplab(net, x, 21), images).numpy()
    labels = [seg[i, : photos[n].shape[0], : photos[n].shape[1]].argmax(-1) for i, n in enumerate(seg_names)]
    print(f"deeplab: classes present {[np.unique(m).size for m in labels]}")
    save_release(net, args.out / "deeplabv3_mnv2_pascal.tar.gz", "deeplabv3_mnv2_pascal_train_aug")
    outputs["deeplab"] = {
        "photos": seg_names,
        "labels": [_rle(m) for m in labels],
        "shapes": [m.shape for m in labels],
    }

    # SSDLite in float64 (the saved variables stay float32): with these random weights float32 rounding moves
    # a few boxes by up to 0.04 px, in TF and in visionkit alike; float64 leaves the comparison to the
    # implementations
    net = Net(dtype=tf.float64)
    images = tf.stack([od_preprocess(photos[n]) for n in names])
    encodings, class_logits, anchors = run(net, lambda x: ssdlite(net, x, 10), images)
    detections = []
    for i, n in enumerate(names):
        boxes = decode(encodings[i], anchors)
        scores = tf.sigmoid(class_logits[i])[:, 1:]
        box, score, cls = od_postprocess(boxes, scores)
        h, w = photos[n].shape[:2]
        pixels = box.numpy()[:, [1, 0, 3, 2]] * np.array([w, h, w, h], np.float64)
        detections.append(
            {"boxes": pixels.tolist(), "scores": score.numpy().tolist(), "labels": cls.numpy().tolist()}
        )
        print(f"ssdlite {n}: {len(score)} detections, {len(set(cls.numpy().tolist()))} classes")
    save_release(net, args.out / "ssdlite_mobilenet_v2.tar.gz", "ssdlite_mobilenet_v2_coco")
    outputs["ssdlite"] = {
        "photos": names,
        "num_classes": 10,
        "detections": detections,
        "anchors": anchors.numpy().tolist(),  # (1917, 4) [ymin, xmin, ymax, xmax] of the 300x300 input
    }
    (args.out / "tf_outputs.json").write_text(json.dumps(outputs))


def _rle(labels: np.ndarray) -> list[int]:
    """Run-length code of a label map in row-major order: [value, count, value, count, ...]."""
    flat = labels.reshape(-1)
    edges = np.flatnonzero(np.diff(flat)) + 1
    starts = np.concatenate([[0], edges])
    counts = np.diff(np.concatenate([starts, [len(flat)]]))
    return np.stack([flat[starts], counts], 1).reshape(-1).tolist()


if __name__ == "__main__":
    main()
