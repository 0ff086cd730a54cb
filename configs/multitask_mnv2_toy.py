# One MobileNetV2 shared by SSDLite detection and mobile DeepLabv3 segmentation, trained jointly on the
# generated toy sets on a CPU, the backbone started from the toy classifier (`pretrained` below; from
# scratch when None). Make the data first (tools/quickstart.py multitask does all of it):
#   python tools/make_toy_data.py coco        (data/toy/coco: 512 train / 64 val images, 4 shape classes)
#   python tools/make_toy_data.py voc         (data/toy/voc: 160 train / 40 val images, same shapes)
# Batches are single-task, two detection batches per segmentation batch (TaskBatchSampler); each task
# keeps its own data set, pipeline, loss (weighted by loss_weights, logged as detection.* /
# segmentation.*) and metric (TaskMetric: detection/bbox_mAP..., segmentation/mIoU...).
# See docs/multitask.md.
# Differences from the single-task toy configs, and why: output stride 32 (the detector's), so the
# segmentation head reads the stride-16 tap layer15_expansion (288 ch at width 0.5) instead of layer18 at
# output stride 16; width 0.5, 192-pixel detection inputs, 2:1 detection batches and 9 epochs (864
# steps), to fit a few minutes on 2 CPU cores with two tasks to train. Segmentation is tested at input_size x input_size
# too: one frame, one size, as the exported graph runs both heads (its size fixed by the detector's
# anchors) on the same image; the label map is resized back to each image's original size.
_base_ = ["_base_/default_runtime.py"]

coco_root = "data/toy/coco"
voc_root = "data/toy/voc/VOCdevkit/VOC2012"
seg_classes = ("background", "circle", "square", "star", "triangle")
width = 0.5  # MobileNetV2 width multiplier, also for the SSDLite extra layers
input_size = 192  # detection input; also the test size of both tasks (tools/export.py's default)
seg_crop = 128
max_epochs = 9
# The toy classifier's checkpoint to start the shared backbone from (as for the single-task toy configs);
# None trains from scratch. tools/quickstart.py sets it; by hand:
# --cfg-options model.backbone.init_cfg.checkpoint=work_dirs/mobilenet_v2_toy/epoch_15.pth
pretrained = None
mean = [123.675, 116.28, 103.53]

model = dict(
    type="MultiTaskModel",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",
        mean=mean,
        std=[58.395, 57.12, 57.375],  # pads bottom/right
    ),
    backbone=dict(
        type="MobileNetV2",
        widen_factor=width,
        output_stride=32,
        init_cfg=dict(type="Pretrained", checkpoint=pretrained, prefix="backbone."),
    ),
    tasks=dict(
        detection=dict(
            type="SSDDetector",
            neck=dict(type="SSDLiteExtraLayers", out_channels=(512, 256, 256, 128), widen_factor=width),
            anchor_generator=dict(
                type="TFSSDAnchorGenerator",
                num_levels=6,
                min_scale=0.2,
                max_scale=0.95,
                aspect_ratios=(1.0, 2.0, 0.5, 3.0, 1.0 / 3.0),
                interpolated_scale_aspect_ratio=1.0,
                reduce_boxes_in_lowest_layer=True,
            ),
            head=dict(
                type="SSDLiteHead", num_classes=4, test_cfg=dict(score_thr=0.01, nms_iou=0.6, max_per_img=100)
            ),
            init_checkpoint=None,  # e.g. work_dirs/ssdlite_mnv2_toy/epoch_60.pth
        ),
        segmentation=dict(
            type="Segmentor",
            decode_head=dict(
                type="ASPPHead",
                num_classes=len(seg_classes),
                in_taps=("layer15_expansion",),
                channels=256,
                dilations=(),
                dropout=0.1,
            ),
            test_cfg=dict(mode="whole"),
            init_checkpoint=None,
        ),
    ),
    loss_weights=dict(detection=1.0, segmentation=1.0),
)

det_train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="ZoomOut", fill=mean, min_ratio=1.0, max_ratio=2.0, p=0.5),
            # The SSD paper's crop (some box above the drawn IoU; 1.0 = no crop), torchvision's RandomIoUCrop.
            dict(type="RandomIoUCrop", options=(0.1, 0.3, 0.5, 0.7, 0.9, 1.0), min_scale=0.3, trials=50),
            dict(type="Resize", height=input_size, width=input_size),
            dict(type="HorizontalFlip", p=0.5),
        ],
    ),
    dict(type="PackInputs"),
]
det_test_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="Resize", height=input_size, width=input_size)]),
    dict(type="PackInputs"),
]
seg_train_pipeline = [
    dict(type="LoadImage"),
    dict(type="LoadSegMap"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="RandomScale", scale_limit=(-0.25, 0.5), p=1.0),
            dict(
                type="PadIfNeeded",
                min_height=seg_crop,
                min_width=seg_crop,
                border_mode=0,
                fill=(124, 116, 104),
                fill_mask=255,
            ),
            dict(type="RandomCrop", height=seg_crop, width=seg_crop),
            dict(type="HorizontalFlip", p=0.5),
        ],
    ),
    dict(type="PackInputs"),
]
seg_test_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="Resize", height=input_size, width=input_size)]),
    dict(type="LoadSegMap"),  # after the resize: scored at the original size
    dict(type="PackInputs"),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    # Single-task batches, two detection batches then one segmentation batch (detection learns slower);
    # each task's short last batch is dropped (SSDLite cannot train on one image).
    batch_sampler=dict(type="TaskBatchSampler", ratio=dict(detection=2, segmentation=1), drop_last=True),
    dataset=dict(
        type="MultiTaskDataset",
        datasets=dict(
            detection=dict(
                type="CocoDetection",
                data_root=coco_root,
                ann_file="annotations/instances_train2017.json",
                data_prefix=dict(img="train2017/"),
                pipeline=det_train_pipeline,
            ),
            segmentation=dict(
                type="VOCSegmentation",
                data_root=voc_root,
                split="ImageSets/Segmentation/train.txt",
                metainfo=dict(classes=seg_classes),
                pipeline=seg_train_pipeline,
            ),
        ),
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=False),
    batch_sampler=dict(type="TaskBatchSampler", ratio=None, drop_last=False),  # every image once
    dataset=dict(
        type="MultiTaskDataset",
        datasets=dict(
            detection=dict(
                type="CocoDetection",
                data_root=coco_root,
                ann_file="annotations/instances_val2017.json",
                data_prefix=dict(img="val2017/"),
                test_mode=True,
                pipeline=det_test_pipeline,
            ),
            segmentation=dict(
                type="VOCSegmentation",
                data_root=voc_root,
                split="ImageSets/Segmentation/val.txt",
                metainfo=dict(classes=seg_classes),
                test_mode=True,
                pipeline=seg_test_pipeline,
            ),
        ),
    ),
)
test_dataloader = val_dataloader
val_evaluator = [
    dict(type="TaskMetric", task="detection", metric=dict(type="CocoMetric")),
    dict(type="TaskMetric", task="segmentation", metric=dict(type="IoUMetric")),
]
test_evaluator = val_evaluator

optim_wrapper = dict(type="OptimWrapper", optimizer=dict(type="AdamW", lr=3e-3, weight_decay=1e-4))
param_scheduler = [
    dict(type="LinearLR", start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type="CosineAnnealingLR", T_max=max_epochs, by_epoch=True, eta_min=1e-5),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict()
test_cfg = dict()
default_hooks = dict(
    logger=dict(interval=15),
    checkpoint=dict(interval=max_epochs, max_keep_ckpts=1, save_best="segmentation/mIoU", rule="greater"),
)
# The lr above is for 8 images per step (one process); --auto-scale-lr scales it to processes x batch.
auto_scale_lr = dict(base_batch_size=8, enable=False)
randomness = dict(seed=0)
