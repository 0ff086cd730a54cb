# MobileNetV2 1.0 on ImageNet at 224x224 as TF-slim trained the paper's model (72.0 top-1; 3.4M params,
# 300M MAdds; research/slim/nets/mobilenet/README.md, research/slim/train_image_classifier.py,
# research/slim/preprocessing/inception_preprocessing.py). Each item beside its source: docs/recipes.md.
#   bash tools/dist_train.sh configs/mobilenet_v2_imagenet.py 8          # the recipe's 8 x 96 images per step
#   python tools/train.py configs/mobilenet_v2_imagenet.py --auto-scale-lr   # 1 GPU: lr 0.045 for 96 images
# torchvision's SGD recipe (its IMAGENET1K_V1 weights, 71.878): configs/mobilenet_v2_imagenet_torchvision.py.
_base_ = [
    "_base_/models/mobilenet_v2_classifier.py",
    "_base_/datasets/imagenet.py",
    "_base_/schedules/imagenet_rmsprop_tf.py",
    "_base_/default_runtime.py",
]

input_size = 224
# Inputs stay normalised with ImageNet's mean / std (TF-slim maps pixels to [-1, 1]) so that these weights go
# into the detection and segmentation configs, which start from torchvision's.
model = dict(
    # mobilenet.training_scope: BatchNorm decay 0.997 (momentum 0.003); weights truncated normal, stddev 0.09
    # (TF truncates at 2 stddev); dropout keep_prob 0.8. BatchNorm eps stays 1e-5 (TF: 1e-3) to match the
    # downstream configs and torchvision's checkpoints.
    backbone=dict(
        bn_momentum=0.003, init_cfg=dict(type="TruncNormal", layer="Conv2d", std=0.09, a=-0.18, b=0.18)
    ),
    head=dict(
        dropout=0.2,
        label_smoothing=0.1,  # --label_smoothing=0.1
        init_cfg=dict(type="TruncNormal", layer="Linear", std=0.09, a=-0.18, b=0.18, bias=0.0),
    ),
)

# --preprocessing_name=inception_v2 (inception_preprocessing.preprocess_for_train, fast_mode=True):
# distorted_bounding_box_crop (area 0.05-1, aspect 0.75-1.33, min_object_covered 0.1, 100 attempts), bilinear
# resize to 224x224, left-right flip, distort_color (brightness +-32/255, then saturation 0.5-1.5, clip).
train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="DistortedBoundingBoxCrop", min_object_covered=0.1, area_range=(0.05, 1.0)),
            dict(type="Resize", height=input_size, width=input_size),
            dict(type="HorizontalFlip", p=0.5),
            dict(type="InceptionColorDistortion", max_brightness_delta=32, saturation_range=(0.5, 1.5)),
        ],
    ),
    dict(type="PackInputs"),
]
# preprocess_for_eval: the central 87.5% of each side, bilinear resize to 224x224.
test_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="CentralCrop", fraction=0.875),
            dict(type="Resize", height=input_size, width=input_size),
        ],
    ),
    dict(type="PackInputs"),
]
# --batch_size=96 per clone, --num_clones=8: 96 per process on 8 processes.
train_dataloader = dict(batch_size=96, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
