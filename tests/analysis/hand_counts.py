"""Parameters and MAdds summed by hand from the architectures' definitions (paper Table 2, DESIGN.md
sections 2-3), independent of :func:`visionkit.analysis.complexity.count_complexity`.

A layer is (C_in, C_out, kernel, groups, output H, output W, bias); MAdds = H * W * C_out * C_in / groups
* k * k (the paper's count: no BatchNorm, activation, pooling or bias), parameters = weights + bias +
2 C_out for a BatchNorm after every conv without bias.
"""

from __future__ import annotations

import math
from typing import NamedTuple

# MobileNetV2 paper Table 2: expansion t, channels c, repeats n, first stride s (width 1.0).
TABLE_2 = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


class Layer(NamedTuple):
    c_in: int
    c_out: int
    kernel: int
    groups: int
    height: int
    width: int
    bias: bool = False  # conv with bias and no BatchNorm (a predictor)

    @property
    def madds(self) -> int:
        return self.height * self.width * self.c_out * self.c_in // self.groups * self.kernel**2

    @property
    def params(self) -> int:
        weights = self.c_out * self.c_in // self.groups * self.kernel**2
        return weights + (self.c_out if self.bias else 2 * self.c_out)


def mobilenet_v2(
    size: int, output_stride: int = 32, final: bool = True
) -> tuple[list[Layer], dict[str, tuple]]:
    """Layers of MobileNetV2 1.0 on a size x size input, and its taps name -> (channels, side)."""
    side, stride = math.ceil(size / 2), 2
    layers, taps = [Layer(3, 32, 3, 1, side, side)], {}
    c_in, number = 32, 2
    for t, c, n, s in TABLE_2:
        for i in range(n):
            step = s if i == 0 and stride < output_stride else 1
            stride *= step
            hidden = c_in * t
            if t != 1:
                layers.append(Layer(c_in, hidden, 1, 1, side, side))
                if number == 15:
                    taps["layer15_expansion"] = (hidden, side)
            side = math.ceil(side / step)
            layers += [Layer(hidden, hidden, 3, hidden, side, side), Layer(hidden, c, 1, 1, side, side)]
            c_in, number = c, number + 1
    taps["layer18"] = (320, side)
    if final:
        layers.append(Layer(320, 1280, 1, 1, side, side))
        taps["final"] = (1280, side)
    return layers, taps


def ssdlite(num_classes: int, anchors: list[int], size: int = 320) -> list[Layer]:
    """MobileNetV2 + SSDLite extra layers (512, 256, 256, 128) + depthwise-separable predictors."""
    layers, taps = mobilenet_v2(size)
    levels = [taps["layer15_expansion"], taps["final"]]
    c_in, side = taps["final"]
    for c_out in (512, 256, 256, 128):
        small = math.ceil(side / 2)
        layers += [
            Layer(c_in, c_out // 2, 1, 1, side, side),
            Layer(c_out // 2, c_out // 2, 3, c_out // 2, small, small),
            Layer(c_out // 2, c_out, 1, 1, small, small),
        ]
        c_in, side = c_out, small
        levels.append((c_out, side))
    for (channels, side), count in zip(levels, anchors, strict=True):
        for outputs in (num_classes + 1, 4):
            layers += [
                Layer(channels, channels, 3, channels, side, side),
                Layer(channels, count * outputs, 1, 1, side, side, bias=True),
            ]
    return layers


def deeplabv3(num_classes: int, atrous_branches: int, size: int = 512) -> list[Layer]:
    """MobileNetV2 at output stride 16 up to layer 18 (no 1280 conv) + ASPP (1x1, atrous 3x3 branches,
    image pooling, projection, classifier), all 256 wide."""
    layers, taps = mobilenet_v2(size, output_stride=16, final=False)
    c_in, side = taps["layer18"]
    branches = [Layer(c_in, 256, 1, 1, side, side)]
    branches += [Layer(c_in, 256, 3, 1, side, side) for _ in range(atrous_branches)]
    branches.append(Layer(c_in, 256, 1, 1, 1, 1))  # image pooling: a 1x1 conv on the pooled 1x1 map
    layers += branches
    layers += [
        Layer(256 * len(branches), 256, 1, 1, side, side),
        Layer(256, num_classes, 1, 1, side, side, True),
    ]
    return layers


def totals(layers: list[Layer]) -> tuple[int, int]:
    """(parameters, MAdds) of the layers."""
    return sum(layer.params for layer in layers), sum(layer.madds for layer in layers)


def classifier(num_classes: int, size: int = 224) -> list[Layer]:
    """MobileNetV2 1.0 + global pooling + a fully connected layer (a 1x1 "conv" with bias)."""
    layers, _ = mobilenet_v2(size)
    return [*layers, Layer(1280, num_classes, 1, 1, 1, 1, bias=True)]
