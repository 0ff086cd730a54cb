# torchvision `ssdlite320_mobilenet_v3_large` COCO_V1 (21.3 box AP on COCO val2017: torchvision's figure, not
# measured by visionkit): the same network and inference, so torchvision's state_dict file loads as-is and
# predicts what torchvision predicts (tests/models/test_torchvision_ssdlite.py). Evaluate it:
#   python tools/test.py configs/ssdlite320_mnv3_large_coco.py torchvision://ssdlite320_mobilenet_v3_large
# Where this differs from configs/ssdlite_mnv2_coco.py (the paper's TF settings on MobileNetV2):
# - MobileNetV3-Large with torchvision's reduced tail (widths halved from C4 on: `final` has 480 channels);
#   the head reads the C4 block's 672-ch expansion (stride 16) and `final` (stride 32);
# - torchvision's DefaultBoxGenerator (6 boxes everywhere, scales 0.2..0.95 with clipping), [-1, 1] inputs;
# - 91 scores in torchvision's file (background + COCO category ids 1..90, gaps included): visionkit keeps 90
#   classes, background moved last on load, label j = category j + 1 (test_evaluator.label_cat_ids);
# - torchvision's inference: score > 0.001, the best 300 anchors of each class, NMS IoU 0.55, 300 per image.
# Training is torchvision's recipe for that file (references/detection/README.md, "SSDlite320
# MobileNetV3-Large": 8 GPUs x 24 images, SGD lr 0.15, weight decay 4e-5, cosine over 660 epochs,
# --data-augmentation ssdlite = RandomIoUCrop + flip; engine.py's linear warm-up). Its backbone was not
# ImageNet-initialised: ssdlite320_mobilenet_v3_large() takes the reduced tail exactly when no backbone
# weights are given and then draws every conv from N(0, 0.03) (_normal_init); the published COCO file has the
# reduced tail and the README command passes no --weights-backbone. Item by item: docs/recipes.md.
#   bash tools/dist_train.sh configs/ssdlite320_mnv3_large_coco.py 8
_base_ = [
    "_base_/datasets/coco_detection.py",
    "_base_/schedules/ssdlite_sgd_cosine.py",
    "_base_/default_runtime.py",
]
data_root = "data/coco"
input_size = 320  # resized to 320x320 without keeping the aspect ratio, as torchvision's fixed_size
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3, save_best="coco/bbox_mAP", rule="greater"))

model = dict(
    type="SSDDetector",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",  # torchvision: x / 255, then (x - 0.5) / 0.5
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        pad_size_divisor=1,
    ),
    # mobilenet_v3_large(reduced_tail=True, norm_layer=BatchNorm2d(eps=0.001, momentum=0.03))
    # From scratch as torchvision's training: _normal_init, N(0, 0.03) on every conv (BatchNorm 1, 0).
    backbone=dict(
        type="MobileNetV3",
        arch="large",
        reduced_tail=True,
        bn_eps=1e-3,
        bn_momentum=0.03,
        init_cfg=dict(type="Normal", layer="Conv2d", std=0.03, bias=0.0),
    ),
    # torchvision _extra_block: 1x1 to out // 2, 3x3 depthwise stride 2, 1x1 to out; BN + ReLU6 after each.
    neck=dict(type="SSDLiteExtraLayers", out_channels=(512, 256, 256, 128), bn_eps=1e-3, bn_momentum=0.03),
    # DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95), clip=True
    anchor_generator=dict(
        type="TorchvisionSSDAnchorGenerator",
        min_scale=0.2,
        max_scale=0.95,
        ratios=((2, 3),) * 6,
        clip=True,
    ),
    head=dict(
        type="SSDLiteHead",  # torchvision SSDLiteHead: 3x3 depthwise + BN + ReLU6, 1x1 conv; N(0, 0.03) init
        num_classes=90,  # torchvision's 91 minus background, which is moved last on load
        in_taps=("c4_expansion", "final"),
        box_stds=(0.1, 0.1, 0.2, 0.2),  # BoxCoder weights (10, 10, 5, 5); dw, dh clamped at log(1000 / 16)
        pos_iou=0.5,
        neg_iou=0.5,
        loss=dict(type="SSDLoss", neg_pos_ratio=3, min_negatives=0, smooth_l1_beta=1.0),
        # postprocess_detections: softmax; per class score > 0.001 and its top 300 (topk_candidates); boxes
        # clipped to the image; class-aware NMS IoU 0.55; the best 300 (detections_per_img).
        test_cfg=dict(
            score_thr=0.001,
            topk_per_class=300,
            nms_pre=90 * 300,  # every per-class candidate: torchvision has no overall limit
            nms_iou=0.55,
            max_per_img=300,
            clip_border=True,
        ),
        bn_eps=1e-3,
        bn_momentum=0.03,
    ),
)
# Label j is COCO category j + 1 (torchvision's label space) in the data sets, so training matches the 90
# classes; predictions of categories COCO 2017 lacks are dropped when results are written.
label_cat_ids = list(range(1, 91))
val_evaluator = dict(label_cat_ids=label_cat_ids)
test_evaluator = val_evaluator
val_dataloader = dict(dataset=dict(label_cat_ids=label_cat_ids))
test_dataloader = val_dataloader

# torchvision's references/detection: train.py --epochs 660 --lr-scheduler cosineannealinglr --lr 0.15
# --batch-size 24 --weight-decay 0.00004 (momentum 0.9, weight decay on every parameter); engine.py warms up
# linearly from lr / 1000 over the first min(1000, iterations per epoch - 1) iterations.
max_epochs = 660
optim_wrapper = dict(optimizer=dict(lr=0.15, momentum=0.9, weight_decay=4e-5))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=1000),
    dict(type="CosineAnnealingLR", begin=0, T_max=max_epochs, end=max_epochs, by_epoch=True, eta_min=0),
]
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
auto_scale_lr = dict(base_batch_size=192, enable=False)
# presets.DetectionPresetTrain(data_augmentation="ssdlite"): RandomIoUCrop (torchvision's: some box with
# its centre inside above the drawn IoU) and a horizontal flip; the model resizes to 320x320. Training drops
# images without valid boxes (_coco_remove_images_without_annotations), nothing else.
train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="RandomIoUCrop", min_scale=0.3, max_scale=1.0, aspect_range=(0.5, 2.0), trials=40),
            dict(type="HorizontalFlip", p=0.5),
            dict(type="Resize", height=input_size, width=input_size),
        ],
    ),
    dict(type="PackInputs"),
]
train_dataloader = dict(
    batch_size=24,
    dataset=dict(
        times=1,
        dataset=dict(filter_empty_gt=True, min_size=0, label_cat_ids=label_cat_ids, pipeline=train_pipeline),
    ),
)
