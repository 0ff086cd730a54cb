# COCO 2017 detection in its on-disk layout (docs/datasets.md): data/coco/{annotations,train2017,val2017}.
# SSD training augmentation as in mmdetection's SSDLite recipe (configs/ssdlite/
# ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py), with mmdetection's semantics: Expand, MinIoURandomCrop
# (every box above the drawn IoU; modes no crop, 0.1-0.9 and 0 = no IoU limit), Resize, RandomFlip,
# PhotoMetricDistortion. The paper's (TF) and torchvision's recipes replace it in their configs.
data_root = "data/coco"
input_size = 320
mean = [123.675, 116.28, 103.53]  # the data preprocessor's mean: zoom-out fills the canvas with it

train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="ZoomOut", fill=mean, min_ratio=1.0, max_ratio=4.0, p=0.5),  # mmdet Expand
            dict(type="MinIoURandomCrop", min_ious=(0.1, 0.3, 0.5, 0.7, 0.9), min_scale=0.3),
            dict(type="Resize", height=input_size, width=input_size),
            dict(type="HorizontalFlip", p=0.5),
            # Brightness +-32 (added), contrast and saturation 0.5..1.5, hue +-18 degrees, channel swap: each
            # with probability 0.5; float output, unclipped, as mmdetection's.
            dict(
                type="PhotoMetricDistortion",
                brightness_delta=32,
                contrast_range=(0.5, 1.5),
                saturation_range=(0.5, 1.5),
                hue_delta=18,
            ),
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
    batch_size=24,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,  # a last batch of one image cannot train SSDLite's BatchNorm on 1x1 maps
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(
        type="RepeatDataset",
        times=5,
        dataset=dict(
            type="CocoDetection",
            data_root=data_root,
            ann_file="annotations/instances_train2017.json",
            data_prefix=dict(img="train2017/"),
            filter_empty_gt=True,
            min_size=32,
            pipeline=train_pipeline,
        ),
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=4,
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
# Ground truth comes from the dataset's ann_file. Per-class AP table at test time. A test-dev submission reads
# the image-info file (image_info_test-dev2017.json: images, no annotations) and writes results only:
#   --cfg-options test_dataloader.dataset.ann_file=annotations/image_info_test-dev2017.json
#       test_dataloader.dataset.data_prefix.img=test2017/ test_evaluator.format_only=True
#       test_evaluator.outfile_prefix=work_dirs/detections_test-dev2017_ssdlite
val_evaluator = dict(type="CocoMetric")
test_evaluator = dict(type="CocoMetric", classwise=True)
