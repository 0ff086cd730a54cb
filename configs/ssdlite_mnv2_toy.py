# Quick start for detection: SSDLite + MobileNetV2 on the generated toy COCO set (4 shape classes with
# non-contiguous category ids, several objects per image, some images empty) on a CPU, its backbone started
# from the toy classifier (as real runs start from ImageNet weights). Make the data and the classifier
# first (tools/quickstart.py does both for you):
#   python tools/make_toy_data.py coco            (writes data/toy/coco in the COCO 2017 layout)
#   python tools/train.py configs/mobilenet_v2_toy.py   (the checkpoint for `pretrained` below)
# It differs from the COCO recipe on purpose: width 0.5, 320-pixel inputs, a third feature tap at stride 8
# and 7 anchor levels from 5% to 80% of the input (the toy objects are 14 px to 70% of the image), AdamW
# with a short cosine schedule, because 512 training images on 2 CPU cores are a different problem from COCO
# on 8 GPUs. The loss is the COCO config's.
_base_ = ["_base_/models/ssdlite_mnv2.py", "_base_/default_runtime.py"]

data_root = "data/toy/coco"
width = 0.5  # MobileNetV2 width multiplier, as configs/mobilenet_v2_toy.py
# The toy classifier's checkpoint to start the backbone from; None trains from scratch (then also set
# model.backbone.frozen_stages=-1, below). tools/quickstart.py sets it; by hand:
# --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mobilenet_v2_toy/epoch_15.pth
pretrained = None
# 320 px keeps the toy images (256-384 px a side) near their own scale, for the small shapes: mAP 0.547 /
# AP50 0.765 against 0.484 / 0.727 at 256 px (seed 0, one run each), for 1.5x the training time.
input_size = 320
max_epochs = 8

model = dict(
    backbone=dict(
        widen_factor=width,
        # The stem and stages 1-2 (stride <= 4, the 160x160 and 80x80 maps) keep the classifier's weights,
        # as torchvision's detectors keep early layers frozen: a training step takes ~37% less time (0.34
        # against 0.55 s, in-process A/B), for mAP 0.568 / 0.569 / 0.561, AP50 0.786 / 0.827 / 0.786 on seeds
        # 0 / 1 / 2 against 0.578 / 0.590 / 0.567 and 0.791 / 0.815 / 0.780 trained whole; stage 3 frozen too
        # lost 0.09 mAP.
        frozen_stages=2,
        init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone."),
    ),
    neck=dict(widen_factor=width),
    # A stride-8 level (layer-8 expansion, 40x40 at 320 px) with anchors from 5% of the input (16 px) for the
    # small shapes, which the stride-16 level's smallest 32-px anchors miss; 7 levels up to 80% (256 px).
    # Shapes' boxes are near square, so aspect ratios 1, 2 and 1/2 (plus the interpolated scale) suffice.
    # mAP 0.274, AP50 0.550 against 0.139, 0.306 (64 train images, 40 epochs, one run each; this one with
    # the toy classifier's backbone).
    anchor_generator=dict(
        num_levels=7,
        min_scale=0.05,
        max_scale=0.8,
        aspect_ratios=(1.0, 2.0, 0.5),
        reduce_boxes_in_lowest_layer=False,
    ),
    head=dict(
        num_classes=4,
        in_taps=("layer8_expansion", "layer15_expansion", "final"),
        # An anchor is a positive from IoU 0.4 with a box (0.5 in the COCO recipe): a 14-20 px shape between
        # two anchor centres (stride 8) has IoU under 0.5 with the nearest 16-px anchor (0.37 for a 14-px one
        # 4 px off in x and y), so often only its forced best match trained. With lr 8e-3 (below; was 4e-3),
        # seeds 0 / 1 / 2: mAP 0.585 / 0.586 / 0.594, AP50 0.810 / 0.833 / 0.814 against 0.568 /
        # 0.569 / 0.561 and 0.786 / 0.827 / 0.786 (0.5 and 4e-3); 0.4 alone: seed 0 0.566 / 0.791, seed 2
        # 0.580 / 0.801; 0.35: seed 0 0.542 / 0.761; 7 epochs at 0.4 / 8e-3: seed 0 0.559 / 0.786.
        pos_iou=0.4,
        neg_iou=0.4,
    ),
)
train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            # No ZoomOut / MinIoURandomCrop: in a few hundred steps the model underfits (with 64 train images,
            # mAP 0.139 without, 0.097 with). No ColorJitter either: a shape's colour is not its class, and
            # 512 images vary enough (mAP 0.410 without, 0.402 with; one run each, 5 epochs).
            dict(type="Resize", height=input_size, width=input_size),
            dict(type="HorizontalFlip", p=0.5),
        ],
    ),
    dict(type="PackInputs"),
]
test_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="Resize", height=input_size, width=input_size)]),
    dict(type="PackInputs"),
]
train_dataloader = dict(
    # 512 images, 8 per step (one run each, 5 epochs: mAP 0.391 with 512 images at batch 4, lr 2e-3; 0.381
    # with 256 images and twice the epochs; 0.308 with 64 images and 8x the epochs); 8 epochs: 0.485.
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=True,  # a last batch of one image cannot train SSDLite's BatchNorm on 1x1 maps
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(
        type="CocoDetection",
        data_root=data_root,
        ann_file="annotations/instances_train2017.json",
        data_prefix=dict(img="train2017/"),
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(
        type="CocoDetection",
        data_root=data_root,
        ann_file="annotations/instances_val2017.json",
        data_prefix=dict(img="val2017/"),
        test_mode=True,
        pipeline=test_pipeline,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="CocoMetric")
test_evaluator = dict(type="CocoMetric", classwise=True)

# lr 8e-3: see the head above.
optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=8e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type="CosineAnnealingLR", T_max=max_epochs, by_epoch=True, eta_min=1e-5),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(logger=dict(interval=8), checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
# The lr above is for 8 images per step (one process); --auto-scale-lr scales it to processes x batch.
auto_scale_lr = dict(base_batch_size=8, enable=False)
randomness = dict(seed=0)
# Channels-last (NHWC) weights and activations, as the other toy configs (for this model's training steps
# no difference stood out of the machine's noise).
channels_last = True
