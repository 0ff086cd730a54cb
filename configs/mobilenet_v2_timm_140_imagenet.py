# timm's mobilenetv2_140: mobilenet_v2_timm_imagenet.py at width 1.4 (timm's round_channels = TF slim's
# rounding). Published figure (timm's results-imagenet.csv, not measured by visionkit):
# mobilenetv2_140.ra_in1k 76.528 top-1 / 93.008 top-5.
#   python tools/test.py configs/mobilenet_v2_timm_140_imagenet.py timm://mobilenetv2_140
_base_ = ["mobilenet_v2_timm_imagenet.py"]
model = dict(backbone=dict(widen_factor=1.4))
