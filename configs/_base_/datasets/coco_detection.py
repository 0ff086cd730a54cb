# COCO 2017 detection in its on-disk layout (docs/datasets.md): data/coco/{annotations,train2017,val2017}.
# SSD training augmentation as in mmdetection's SSDLite recipe, written with albumentations.
data_root = "data/coco"
input_size = 320
mean = [123.675, 116.28, 103.53]  # the data preprocessor's mean: zoom-out fills the canvas with it

train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="ZoomOut", fill=mean, min_ratio=1.0, max_ratio=4.0, p=0.5),
            dict(type="MinIoURandomCrop", min_ious=(0.1, 0.3, 0.5, 0.7, 0.9), min_scale=0.3),
            dict(type="Resize", height=input_size, width=input_size),
            dict(type="HorizontalFlip", p=0.5),
            # mmdet's PhotoMetricDistortion (brightness +-32, contrast and saturation 0.5..1.5, hue +-18 deg),
            # each part with probability 0.5 there; here one ColorJitter applied half of the time.
            dict(type="ColorJitter", brightness=0.125, contrast=0.5, saturation=0.5, hue=0.05, p=0.5),
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
# Ground truth comes from the dataset's ann_file. Per-class AP table at test time; for a test-dev
# submission: --cfg-options test_evaluator.format_only=True test_evaluator.outfile_prefix=work_dirs/results
val_evaluator = dict(type="CocoMetric")
test_evaluator = dict(type="CocoMetric", classwise=True)
