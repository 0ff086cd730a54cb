# PaddleClas's MobileNetV2_x1_5: mobilenet_v2_paddle_imagenet.py at width 1.5 (PaddleClas's int(c * 1.5)
# widths). Published figure (PaddleClas's, not measured by visionkit): 74.12 top-1 / 91.67 top-5.
#   python tools/test.py configs/mobilenet_v2_paddle_150_imagenet.py paddleclas://MobileNetV2_x1_5
_base_ = ["mobilenet_v2_paddle_imagenet.py"]
model = dict(backbone=dict(widen_factor=1.5))
