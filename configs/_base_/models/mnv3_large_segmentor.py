# A Segmentor on MobileNetV3-Large as torchvision builds its segmentation models (deeplabv3_ / lraspp_
# mobilenet_v3_large): output stride 16 (torchvision's dilated=True: the last strided block runs at stride 1,
# dilation 2), ImageNet mean / std, one whole-image pass with the logits resized bilinear (align_corners=False)
# to the input, as torchvision's forward. The configs add the decode head.
model = dict(
    type="Segmentor",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",  # torchvision's preset normalisation, in pixels (x 255), RGB
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
    ),
    backbone=dict(type="MobileNetV3", arch="large", output_stride=16),
    test_cfg=dict(mode="whole", scales=(1.0,), flip=False),
)
