# PASCAL VOC 2012 segmentation in the layout of docs/datasets.md under data/VOCdevkit/VOC2012, trained on
# "trainaug" (VOC train + SBD, 10,582 images, the set of TF DeepLab's published numbers): build it once from
# the SBD download with tools/dataset_converters/voc_aug.py (SegmentationClassAug/ + trainaug.txt). The
# widely shared train_aug.txt (image and label paths per line) works as the split too.
data_root = "data/VOCdevkit/VOC2012"
crop_size = 512
input_size = crop_size  # the input tools/analysis/complexity.py counts at (Table 7 uses 512x512)
mean_pixel = (124, 116, 104)  # ImageNet mean in RGB: padding becomes ~0 after normalisation, as TF DeepLab

# TF DeepLab's augmentation (research/deeplab/train.py flags, input_preprocess.py): one random scale from
# 0.5, 0.75 .. 2.0 (min_scale_factor, max_scale_factor, scale_factor_step_size) for both sides, labels
# nearest-neighbour; pad to the crop with the mean pixel and label 255 (ignored); random crop; flip.
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
                border_mode=0,  # cv2.BORDER_CONSTANT
                fill=mean_pixel,
                fill_mask=255,
            ),
            dict(type="RandomCrop", height=crop_size, width=crop_size),
            dict(type="HorizontalFlip", p=0.5),
        ],
    ),
    dict(type="PackInputs"),
]
# Whole images at their own size (VOC images are at most 500x500); no resizing, so the masks stay at
# the original size the metric compares at.
test_pipeline = [dict(type="LoadImage"), dict(type="LoadSegMap"), dict(type="PackInputs")]

train_dataloader = dict(
    # TF DeepLab fine-tunes BatchNorm with 16 images per step ("batch size larger than 12, more than 16 is
    # better"): 16 on one process, or 2 per process on 8 (SyncBN makes it one batch; the schedule's
    # auto_scale_lr.base_batch_size is 16, and a different total is warned about at start).
    batch_size=16,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,  # the ASPP image-pooling BatchNorm needs >= 2 images per batch
    sampler=dict(type="InfiniteSampler", shuffle=True),
    dataset=dict(
        type="VOCSegmentation",
        data_root=data_root,
        split="ImageSets/Segmentation/trainaug.txt",
        ann_dir="SegmentationClassAug",
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=1,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(
        type="VOCSegmentation",
        data_root=data_root,
        split="ImageSets/Segmentation/val.txt",
        pipeline=test_pipeline,
        test_mode=True,
    ),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="IoUMetric")
test_evaluator = val_evaluator
