# timm's mobilenetv3_small_100: mobilenet_v3_large_timm_imagenet.py with the Small layout and its 1024-wide
# head. Published figure (timm's results-imagenet.csv, not measured by visionkit):
# mobilenetv3_small_100.lamb_in1k 67.636 top-1 / 87.638 top-5.
#   python tools/test.py configs/mobilenet_v3_small_timm_imagenet.py timm://mobilenetv3_small_100
_base_ = ["mobilenet_v3_large_timm_imagenet.py"]

model = dict(backbone=dict(arch="small"), head=dict(hidden_channels=1024))
