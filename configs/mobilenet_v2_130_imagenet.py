# MobileNetV2 1.3 on ImageNet at 224x224: the width-multiplier variant of mobilenet_v2_imagenet.py.
_base_ = ["mobilenet_v2_imagenet.py"]
model = dict(backbone=dict(widen_factor=1.3))
