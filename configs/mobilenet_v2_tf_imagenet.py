# TF-slim's published MobileNetV2 classifiers (research/slim/nets/mobilenet/README.md: 22 checkpoints, depth
# multiplier 0.35-1.4 at 96-224 px; 1.0@224 71.8 top-1, 1.4@224 75.0: TF-slim's figures, not measured by
# visionkit) with TF-slim's evaluation, so the .tgz releases load as they are and give TF's logits:
#   python tools/test.py configs/mobilenet_v2_tf_imagenet.py \
#       https://storage.googleapis.com/mobilenet_v2/checkpoints/mobilenet_v2_1.0_224.tgz
# Another release: its depth multiplier and resolution (docs/model_zoo.md lists all 22 with commands), e.g.
#   --cfg-options model.backbone.widen_factor=1.4 (the archive mobilenet_v2_1.4_224.tgz)
# Every archive's sha256 is pinned (visionkit/models/tf_releases.py); only its checkpoint is extracted.
# What differs from configs/mobilenet_v2_imagenet.py (the same recipe, trained in visionkit):
# - TF's "SAME" padding on the stride-2 convs (tf_padding) and BatchNorm eps 1e-3, as TF ran the network;
# - inputs mapped to [-1, 1] ((x / 255 - 0.5) * 2, inception preprocessing);
# - evaluation: the central 87.5% of each side, then TF 1's bilinear resize in float (TFResize; OpenCV's
#   resize samples half a pixel away and rounds to uint8);
# - TF-slim's 1001 logits put "background" first: it is dropped on load, so label j is ImageNet class j as in
#   visionkit's ImageNet data (a TF top-1 of "background", never right, becomes the best real class).
# Fine-tune from a release on your own classes: docs/model_zoo.md ("Fine-tuning on your own classes").
_base_ = ["mobilenet_v2_imagenet.py"]

input_size = 224
model = dict(
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5]),
    backbone=dict(widen_factor=1.0, tf_padding=True, bn_eps=1e-3),
    head=dict(num_classes=1000),
)
test_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="CentralCrop", fraction=0.875),
            dict(type="TFResize", height=input_size, width=input_size),
        ],
    ),
    dict(type="PackInputs"),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
