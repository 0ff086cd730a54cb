# PASCAL VOC 2012 segmentation in the layout of docs/datasets.md under data/VOCdevkit/VOC2012.
# Training uses the VOC train split; for "trainaug" (VOC train + SBD, 10,582 images, the usual DeepLab
# training set) put SegmentationClassAug/ and ImageSets/Segmentation/trainaug.txt there and set
#   train_dataloader.dataset.split=ImageSets/Segmentation/trainaug.txt
#   train_dataloader.dataset.ann_dir=SegmentationClassAug
data_root = "data/VOCdevkit/VOC2012"
crop_size = 512
input_size = crop_size  # the input tools/analysis/complexity.py counts at (Table 7 uses 512x512)
mean_pixel = (124, 116, 104)  # ImageNet mean in RGB: padding becomes ~0 after normalisation, as TF DeepLab

# TF DeepLab's augmentation: random scale 0.5..2.0 (RandomScale samples 1 + scale_limit, one factor for
# both sides; masks resize with nearest neighbour), pad to the crop with the mean pixel and label 255
# (ignored), random crop, left-right flip.
train_pipeline = [
    dict(type="LoadImage"),
    dict(type="LoadSegMap"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="RandomScale", scale_limit=(-0.5, 1.0), p=1.0),
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
            # Photometric jitter is not in the DeepLab recipe (p=0.0); raise p to use it.
            dict(type="ColorJitter", brightness=0.2, contrast=0.2, saturation=0.2, hue=0.0, p=0.0),
        ],
    ),
    dict(type="PackInputs"),
]
# Whole images at their own size (VOC images are at most 500x500); no resizing, so the masks stay at
# the original size the metric compares at.
test_pipeline = [dict(type="LoadImage"), dict(type="LoadSegMap"), dict(type="PackInputs")]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    drop_last=True,  # the ASPP image-pooling BatchNorm needs >= 2 images per batch
    sampler=dict(type="InfiniteSampler", shuffle=True),
    dataset=dict(
        type="VOCSegmentation",
        data_root=data_root,
        split="ImageSets/Segmentation/train.txt",
        ann_dir="SegmentationClass",
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
