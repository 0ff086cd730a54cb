# The paper's recommended mobile segmentation model (MobileNetV2 paper Table 7, row 3): DeepLabv3 without
# the atrous ASPP branches (1x1 conv + image pooling only) on layer18 at output stride 16:
# 75.32 mIoU on VOC 2012 val, 2.11M params, 2.75B MAdds; the TF DeepLab model zoo's
# mobilenetv2_coco_voc_trainaug. Output stride 8 with multi-scale + flip (row 4, 77.33):
#   --cfg-options model.backbone.output_stride=8
#       "model.test_cfg.scales=[0.5,0.75,1.0,1.25,1.5,1.75]" model.test_cfg.flip=True
# Starting from torchvision's ImageNet MobileNetV2 (a download, so off by default):
#   --cfg-options model.backbone.init_cfg.type=Pretrained
#       model.backbone.init_cfg.checkpoint=torchvision://mobilenet_v2
_base_ = [
    "_base_/models/deeplabv3_mnv2.py",
    "_base_/datasets/voc_segmentation.py",
    "_base_/schedules/voc_poly.py",  # with the runtime (default_runtime.py)
]

output_stride = 16
model = dict(
    backbone=dict(output_stride=output_stride),
    decode_head=dict(num_classes=21, dilations=()),
    test_cfg=dict(mode="whole", scales=(1.0,), flip=False),
)
