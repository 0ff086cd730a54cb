# ImageNet (ILSVRC-2012) in the layouts of docs/datasets.md: train/<wnid>/*.JPEG; val/*.JPEG + meta/val.txt or
# val/<wnid>/*.JPEG. The pipelines are torchvision's classification presets (RandomResizedCrop + flip;
# resize 256 + centre crop 224); configs/mobilenet_v2_imagenet.py replaces them with TF-slim's Inception ones.
data_root = "data/imagenet"
input_size = 224

train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="RandomResizedCrop", size=(input_size, input_size), scale=(0.08, 1.0)),
            dict(type="HorizontalFlip", p=0.5),
            # torchvision's MobileNetV2 recipe has no colour jitter (p=0.0); raise p to use it. TF-slim's
            # colour distortion is InceptionColorDistortion (configs/mobilenet_v2_imagenet.py).
            dict(type="ColorJitter", brightness=0.4, contrast=0.4, saturation=0.4, hue=0.0, p=0.0),
        ],
    ),
    dict(type="PackInputs"),
]
test_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="SmallestMaxSize", max_size=256),
            dict(type="CenterCrop", height=input_size, width=input_size),
        ],
    ),
    dict(type="PackInputs"),
]

train_dataloader = dict(
    batch_size=96,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(type="ImageNetDataset", data_root=data_root, split="train", pipeline=train_pipeline),
)
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type="DefaultSampler", shuffle=False),
    dataset=dict(type="ImageNetDataset", data_root=data_root, split="val", pipeline=test_pipeline),
)
test_dataloader = val_dataloader
val_evaluator = dict(type="Accuracy", topk=(1, 5))
test_evaluator = val_evaluator
