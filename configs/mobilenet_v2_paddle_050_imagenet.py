# PaddleClas's MobileNetV2_x0_5: mobilenet_v2_paddle_imagenet.py at width 0.5 (PaddleClas's int(c * 0.5)
# widths). Published figure (PaddleClas's, not measured by visionkit): 65.03 top-1 / 85.72 top-5.
#   python tools/test.py configs/mobilenet_v2_paddle_050_imagenet.py paddleclas://MobileNetV2_x0_5
_base_ = ["mobilenet_v2_paddle_imagenet.py"]
model = dict(backbone=dict(widen_factor=0.5))
optim_wrapper = dict(optimizer=dict(weight_decay=3e-5))  # its L2 coeff at this width
