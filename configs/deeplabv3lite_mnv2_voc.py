# The paper's recommended mobile segmentation model (MobileNetV2 paper Table 7, row 3): DeepLabv3 without
# the atrous ASPP branches (1x1 conv + image pooling only) on layer18 at output stride 16: 75.32 mIoU on VOC
# 2012 val, 2.11M params, 2.75B MAdds; the TF DeepLab model zoo's mobilenetv2_coco_voc_trainaug, trained
# ImageNet -> COCO -> VOC trainaug with TF DeepLab's recipe (configs/_base_/schedules/voc_poly.py; every item
# beside its source in docs/recipes.md). This config is the VOC stage; its backbone starts from torchvision's
# ImageNet MobileNetV2 (downloaded once, hash-checked). With the COCO stage first (docs/segmentation.md):
#   python tools/train.py configs/deeplabv3lite_mnv2_coco_voc.py
#   python tools/train.py configs/deeplabv3lite_mnv2_voc.py \
#       --cfg-options load_from=work_dirs/deeplabv3lite_mnv2_coco_voc/epoch_30.pth
# Output stride 8 with multi-scale + flip at test time (row 4, 77.33; TF's eval scales 0.5:0.25:1.75):
#   --cfg-options model.backbone.output_stride=8
#       "model.test_cfg.scales=[0.5,0.75,1.0,1.25,1.5,1.75]" model.test_cfg.flip=True
_base_ = [
    "_base_/models/deeplabv3_mnv2.py",
    "_base_/datasets/voc_segmentation.py",  # trainaug (tools/dataset_converters/voc_aug.py), 16 per step
    "_base_/schedules/voc_poly.py",  # with the runtime (default_runtime.py)
]

output_stride = 16
model = dict(
    backbone=dict(
        output_stride=output_stride,
        bn_momentum=0.003,  # TF DeepLab: mobilenet_v2.training_scope, BatchNorm decay 0.997, fine-tuned
        init_cfg=dict(type="Pretrained", checkpoint="torchvision://mobilenet_v2"),
    ),
    decode_head=dict(num_classes=21, dilations=()),
    test_cfg=dict(mode="whole", scales=(1.0,), flip=False),
)
