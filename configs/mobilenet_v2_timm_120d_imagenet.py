# timm's mobilenetv2_120d: width 1.2 and depth x1.4 (each stage's repeats scaled and rounded up, the first and
# last stage kept), the stem (32) and the final conv (1280) not scaled (timm's fix_stem_head). Published
# figure (timm's results-imagenet.csv, not measured by visionkit): mobilenetv2_120d.ra_in1k 77.300 top-1 /
# 93.516 top-5.
#   python tools/test.py configs/mobilenet_v2_timm_120d_imagenet.py timm://mobilenetv2_120d
_base_ = ["mobilenet_v2_timm_imagenet.py"]
model = dict(
    backbone=dict(
        widen_factor=1.2, stage_repeats=(1, 3, 5, 6, 5, 5, 1), stem_channels=32, final_channels=1280
    )
)
