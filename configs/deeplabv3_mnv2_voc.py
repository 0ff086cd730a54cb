# Mobile DeepLabv3 with the full ASPP head (MobileNetV2 paper Table 7, row 1: 75.70 mIoU, 4.52M params,
# 5.8B MAdds at output stride 16, 512x512). Output stride 8 with multi-scale + flip (row 2, 78.42):
#   --cfg-options model.backbone.output_stride=8 "model.decode_head.dilations=[12,24,36]"
#       "model.test_cfg.scales=[0.5,0.75,1.0,1.25,1.5,1.75]" model.test_cfg.flip=True
# Recipe and data as configs/deeplabv3lite_mnv2_voc.py: TF DeepLab's, on trainaug, from torchvision's ImageNet
# MobileNetV2 (docs/recipes.md).
_base_ = [
    "_base_/models/deeplabv3_mnv2.py",
    "_base_/datasets/voc_segmentation.py",
    "_base_/schedules/voc_poly.py",  # with the runtime (default_runtime.py)
]

output_stride = 16
model = dict(
    backbone=dict(
        output_stride=output_stride,
        bn_momentum=0.003,  # TF DeepLab: mobilenet_v2.training_scope, BatchNorm decay 0.997
        init_cfg=dict(type="Pretrained", checkpoint="torchvision://mobilenet_v2"),
    ),
    decode_head=dict(num_classes=21, dilations=(6, 12, 18)),
    test_cfg=dict(mode="whole", scales=(1.0,), flip=False),
)
