# PaddleClas's MobileNetV2_x2_0: mobilenet_v2_paddle_imagenet.py at width 2.0 (PaddleClas's int(c * 2.0)
# widths). Published figure (PaddleClas's, not measured by visionkit): 75.23 top-1 / 92.58 top-5.
#   python tools/test.py configs/mobilenet_v2_paddle_200_imagenet.py paddleclas://MobileNetV2_x2_0
_base_ = ["mobilenet_v2_paddle_imagenet.py"]
model = dict(backbone=dict(widen_factor=2.0))
