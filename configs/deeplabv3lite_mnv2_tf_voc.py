# TF DeepLab's published Mobile DeepLabv3 (research/deeplab/g3doc/model_zoo.md): mobilenetv2_coco_voc_trainaug,
# 75.32 mIoU on VOC 2012 val at output stride 16, single scale (77.33 at OS 8 with multi-scale + flip), and
# mobilenetv2_coco_voc_trainval (80.25 on the test server): TF DeepLab's figures, not measured by visionkit.
# The archives load as they are and give TF's label maps:
#   python tools/test.py configs/deeplabv3lite_mnv2_tf_voc.py \
#       http://download.tensorflow.org/models/deeplabv3_mnv2_pascal_train_aug_2018_01_29.tar.gz
# What differs from configs/deeplabv3lite_mnv2_voc.py (the same network, trained in visionkit):
# - TF's "SAME" padding (tf_padding) and BatchNorm eps 1e-3 in the backbone; the head's BatchNorm keeps 1e-5;
# - the head concatenates [image_pool, aspp0] (image_pool_first) and every bilinear resize maps corners onto
#   corners (align_corners=True, TF's resize_bilinear);
# - inputs in [-1, 1]; evaluation on a 513x513 canvas (eval_crop_size), the image top-left and the rest
#   127.5 (0 after normalisation): the data preprocessor pads each image to a multiple of 513 with 0; the
#   image pooling averages over the whole canvas, as TF's.
# Fine-tuning from it (VOC trainaug, or your classes with model.decode_head.num_classes=N and
# load_from_strict=False): python tools/train.py configs/deeplabv3lite_mnv2_tf_voc.py --cfg-options load_from=URL
_base_ = ["deeplabv3lite_mnv2_voc.py"]

crop_size = 513  # TF DeepLab's train_crop_size and eval_crop_size
model = dict(
    data_preprocessor=dict(
        mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5], pad_size_divisor=crop_size, pad_value=0
    ),
    backbone=dict(tf_padding=True, bn_eps=1e-3, init_cfg=None),
    decode_head=dict(image_pool_first=True, align_corners=True),
)
train_pipeline = [
    dict(type="LoadImage"),
    dict(type="LoadSegMap"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="RandomStepScale", min_scale=0.5, max_scale=2.0, step=0.25),
            dict(
                type="PadIfNeeded",
                min_height=crop_size,
                min_width=crop_size,
                border_mode=0,
                fill=(128, 128, 128),  # TF's mean pixel 127.5, in uint8
                fill_mask=255,
            ),
            dict(type="RandomCrop", height=crop_size, width=crop_size),
            dict(type="HorizontalFlip", p=0.5),
        ],
    ),
    dict(type="PackInputs"),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
