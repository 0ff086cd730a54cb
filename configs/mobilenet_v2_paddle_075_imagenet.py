# PaddleClas's MobileNetV2_x0_75: mobilenet_v2_paddle_imagenet.py at width 0.75 (PaddleClas's int(c * 0.75)
# widths). Published figure (PaddleClas's, not measured by visionkit): 69.83 top-1 / 89.01 top-5.
#   python tools/test.py configs/mobilenet_v2_paddle_075_imagenet.py paddleclas://MobileNetV2_x0_75
_base_ = ["mobilenet_v2_paddle_imagenet.py"]
model = dict(backbone=dict(widen_factor=0.75))
