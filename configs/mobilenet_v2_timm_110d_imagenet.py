# timm's mobilenetv2_110d: width 1.1 and depth x1.2 (each stage's repeats scaled and rounded up, the first and
# last stage kept), the stem (32) and the final conv (1280) not scaled (timm's fix_stem_head). Published
# figure (timm's results-imagenet.csv, not measured by visionkit): mobilenetv2_110d.ra_in1k 75.056 top-1 /
# 92.186 top-5.
#   python tools/test.py configs/mobilenet_v2_timm_110d_imagenet.py timm://mobilenetv2_110d
_base_ = ["mobilenet_v2_timm_imagenet.py"]
model = dict(
    backbone=dict(
        widen_factor=1.1, stage_repeats=(1, 3, 4, 5, 4, 4, 1), stem_channels=32, final_channels=1280
    )
)
