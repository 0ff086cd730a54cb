# DeepLabv3 on MobileNetV3-Large, as torchvision's deeplabv3_mobilenet_v3_large: 60.3 mIoU / 91.2 pixel
# accuracy on COCO val2017 restricted to the 20 VOC classes (torchvision's published figure, not ours),
# 11,029,328 parameters (its auxiliary FCN head included). Its weights load as they are:
#   python tools/test.py configs/deeplabv3_mnv3_large_voc.py \
#       torchvision://deeplabv3_mobilenet_v3_large
# (downloaded once into torch's hub cache, checked against the hash in its file name). The evaluation here is on VOC 2012 val (see
# docs/segmentation.md for how it differs from torchvision's COCO subset).
_base_ = [
    "_base_/models/mnv3_large_segmentor.py",
    "_base_/datasets/voc_segmentation.py",
    "_base_/schedules/voc_poly.py",  # with the runtime (default_runtime.py)
]

num_classes = 21
output_stride = 16  # torchvision's dilated=True
resize_short_side = 520  # torchvision's SemanticSegmentation(resize_size=520) eval preset
input_size = resize_short_side  # what tools/analysis/complexity.py counts at (torchvision's _ops: 520x520)
model = dict(
    backbone=dict(output_stride=output_stride),
    # torchvision's DeepLabHead on the 960-channel final conv: ASPP (1x1, rates 12 / 24 / 36, image
    # pooling; 256 ch), 1x1 projection, dropout 0.5, then a 3x3 conv-BN-ReLU and the 1x1 classifier.
    decode_head=dict(
        type="ASPPHead",
        num_classes=num_classes,
        in_taps=("final",),
        channels=256,
        dilations=(12, 24, 36),
        dropout=0.5,
        post_project_conv=True,
    ),
    # torchvision's aux_classifier (FCNHead on the stride-8 low tap, in_channels // 4 = 10 channels);
    # trained with weight 0.5 (torchvision's references/segmentation), unused in prediction.
    auxiliary_head=dict(
        type="FCNHead", num_classes=num_classes, in_taps=("low",), channels=10, dropout=0.1, loss_weight=0.5
    ),
)

# torchvision's eval: the short side resized to 520 (bilinear), then normalised. The label map is loaded
# after the resize, so predictions are scored at the image's own size. albumentations resizes with cv2
# (mean difference to torchvision's antialiased resize ~0.1 grey level; it rounds the long side where
# torchvision truncates it, so that side can be 1 pixel longer).
test_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="SmallestMaxSize", max_size=resize_short_side)]),
    dict(type="LoadSegMap"),
    dict(type="PackInputs"),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
