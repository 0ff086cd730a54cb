# timm's mobilenetv2_050: mobilenet_v2_timm_imagenet.py at width 0.5 (timm's round_channels = TF slim's
# rounding). Published figure (timm's results-imagenet.csv, not measured by visionkit):
# mobilenetv2_050.lamb_in1k 65.928 top-1 / 86.114 top-5.
#   python tools/test.py configs/mobilenet_v2_timm_050_imagenet.py timm://mobilenetv2_050
_base_ = ["mobilenet_v2_timm_imagenet.py"]
model = dict(backbone=dict(widen_factor=0.5))
