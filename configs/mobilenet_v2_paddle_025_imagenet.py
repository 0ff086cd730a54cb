# PaddleClas's MobileNetV2_x0_25: mobilenet_v2_paddle_imagenet.py at width 0.25 (PaddleClas's int(c * 0.25)
# widths). Published figure (PaddleClas's, not measured by visionkit): 53.21 top-1 / 76.52 top-5.
#   python tools/test.py configs/mobilenet_v2_paddle_025_imagenet.py paddleclas://MobileNetV2_x0_25
_base_ = ["mobilenet_v2_paddle_imagenet.py"]
model = dict(backbone=dict(widen_factor=0.25))
optim_wrapper = dict(optimizer=dict(weight_decay=3e-5))  # its L2 coeff at this width
