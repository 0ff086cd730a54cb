"""The TF key converters on hand-made TF checkpoints: a visionkit model's weights written under the releases'
variable names and layouts (HWIO kernels, HWC1 depthwise, background first, (ty, tx, th, tw) box codes) load
back into the model through each release config and give the same outputs. Against TensorFlow itself:
``test_tf_checkpoints.py``."""

from __future__ import annotations

import numpy as np
import torch

from tests.models.tensor_bundles import write_bundle
from visionkit.apis import init_model
from visionkit.models.converters.tf_od_ssdlite import TF_BOX_CODE_ORDER

from ..bn_statistics import randomise_batchnorm
from .test_tf_checkpoints import REPO

_BN = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}


def _tf_conv_norm(state: dict, module: str, scope: str, out: dict, depthwise: bool = False) -> None:
    weight = state[f"{module}.conv.weight"]
    out[f"{scope}/{'depthwise_weights' if depthwise else 'weights'}"] = (
        weight.permute(2, 3, 0, 1) if depthwise else weight.permute(2, 3, 1, 0)
    )
    for name, tf_name in _BN.items():
        out[f"{scope}/BatchNorm/{tf_name}"] = state[f"{module}.bn.{name}"]


def tf_backbone(state: dict, scope: str, blocks: int, final: bool) -> dict:
    out: dict = {}
    _tf_conv_norm(state, "backbone.stem", f"{scope}/Conv", out)
    for k in range(blocks):
        name = f"{scope}/expanded_conv" + (f"_{k}" if k else "")
        for part in ("expand", "depthwise", "project"):
            if f"backbone.blocks.{k}.{part}.conv.weight" in state:
                _tf_conv_norm(
                    state, f"backbone.blocks.{k}.{part}", f"{name}/{part}", out, part == "depthwise"
                )
    if final:
        _tf_conv_norm(state, "backbone.final_conv", f"{scope}/Conv_1", out)
    return out


def _load_back(
    tmp_path, config: str, source: torch.nn.Module, tensors: dict, options: dict
) -> torch.nn.Module:
    prefix = write_bundle(tmp_path / "model.ckpt", {k: v.detach().numpy() for k, v in tensors.items()})
    return init_model(str(REPO / config), str(prefix), cfg_options=options)


def _random(config: str, options: dict) -> torch.nn.Module:
    torch.manual_seed(0)
    return randomise_batchnorm(init_model(str(REPO / config), cfg_options=options))


def test_tf_slim_classifier_names_layouts_background_and_moving_averages(tmp_path):
    options = {"model.backbone.widen_factor": 0.35, "model.head.num_classes": 5}
    source = _random("configs/mobilenet_v2_tf_imagenet.py", options)
    state = source.state_dict()
    tensors = tf_backbone(state, "MobilenetV2", 17, final=True)
    weight = torch.cat([torch.randn(1, 1280), state["head.fc.weight"]])  # background row first
    tensors["MobilenetV2/Logits/Conv2d_1c_1x1/weights"] = weight.t()[None, None]
    tensors["MobilenetV2/Logits/Conv2d_1c_1x1/biases"] = torch.cat(
        [torch.tensor([9.0]), state["head.fc.bias"]]
    )
    # a training checkpoint: the moving average is what inference uses; slots and the step are dropped
    shadow = "MobilenetV2/Conv/BatchNorm/beta"
    tensors[f"{shadow}/ExponentialMovingAverage"], tensors[shadow] = tensors[shadow], torch.randn(16)
    tensors["MobilenetV2/Conv/weights/RMSProp"] = torch.randn(3, 3, 3, 16)
    tensors["global_step"] = torch.tensor(700000)
    loaded = _load_back(tmp_path, "configs/mobilenet_v2_tf_imagenet.py", source, tensors, options)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, mode="tensor"), source(x, mode="tensor"))


def test_tf_deeplab_head_order(tmp_path):
    options = {"model.backbone.widen_factor": 0.35, "model.decode_head.num_classes": 4}
    source = _random("configs/deeplabv3lite_mnv2_tf_voc.py", options)
    state = source.state_dict()
    tensors = tf_backbone(state, "MobilenetV2", 17, final=False)
    _tf_conv_norm(state, "decode_head.branches.0.conv", "image_pooling", tensors)
    _tf_conv_norm(state, "decode_head.branches.1", "aspp0", tensors)
    _tf_conv_norm(state, "decode_head.project", "concat_projection", tensors)
    tensors["logits/semantic/weights"] = state["decode_head.classifier.weight"].permute(2, 3, 1, 0)
    tensors["logits/semantic/biases"] = state["decode_head.classifier.bias"]
    loaded = _load_back(tmp_path, "configs/deeplabv3lite_mnv2_tf_voc.py", source, tensors, options)
    x = torch.randn(1, 3, 65, 65)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x, mode="tensor"), source(x, mode="tensor"))


def _tf_predictor(rows: torch.Tensor, anchors: int, kind: str) -> torch.Tensor:
    """visionkit's predictor rows (A * C, ...) in TF's order."""
    grouped = rows.unflatten(0, (anchors, -1))
    if kind == "box":
        inverse = np.argsort(TF_BOX_CODE_ORDER)
        return grouped[:, list(inverse)].flatten(0, 1)
    return grouped.roll(1, dims=1).flatten(0, 1)  # background (last) to first


def test_tf_ssdlite_extras_predictors_and_row_orders(tmp_path):
    num_classes = 3
    options = {"model.backbone.widen_factor": 0.35, "model.neck.widen_factor": 0.35}
    options["model.head.num_classes"] = num_classes
    source = _random("configs/ssdlite_mnv2_tf_coco.py", options)
    state = source.state_dict()
    scope = "FeatureExtractor/MobilenetV2"
    tensors = tf_backbone(state, scope, 17, final=True)
    for i, depth in enumerate(source.neck.out_channels):
        base = f"{scope}/layer_19_2_Conv2d_{i + 2}_3x3_s2_{depth}"
        _tf_conv_norm(
            state, f"neck.blocks.{i}.0", f"{scope}/layer_19_1_Conv2d_{i + 2}_1x1_{depth // 2}", tensors
        )
        _tf_conv_norm(state, f"neck.blocks.{i}.1", f"{base}_depthwise", tensors, depthwise=True)
        _tf_conv_norm(state, f"neck.blocks.{i}.2", base, tensors)
    for k, anchors in enumerate(source.head.anchor_generator.num_anchors_per_location):
        for branch, name, kind in (
            ("cls_convs", "ClassPredictor", "cls"),
            ("reg_convs", "BoxEncodingPredictor", "box"),
        ):
            _tf_conv_norm(state, f"head.{branch}.{k}.0", f"BoxPredictor_{k}/{name}_depthwise", tensors, True)
            weight = _tf_predictor(state[f"head.{branch}.{k}.1.weight"], anchors, kind)
            tensors[f"BoxPredictor_{k}/{name}/weights"] = weight.permute(2, 3, 1, 0)
            tensors[f"BoxPredictor_{k}/{name}/biases"] = _tf_predictor(
                state[f"head.{branch}.{k}.1.bias"], anchors, kind
            )
    loaded = _load_back(tmp_path, "configs/ssdlite_mnv2_tf_coco.py", source, tensors, options)
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        for got, expected in zip(loaded(x, mode="tensor"), source(x, mode="tensor"), strict=True):
            for a, b in zip(got, expected, strict=True):
                torch.testing.assert_close(a, b)
