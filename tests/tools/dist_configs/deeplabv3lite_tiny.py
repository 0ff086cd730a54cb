# The toy mobile DeepLabv3 config shrunk for the 2-process CI test (tests/tools/test_distributed.py):
# width 0.35, 64-pixel crops, batch 2 per process, no dataloader workers. Val images keep their own sizes
# (64-128 px), so a val batch pads its smaller images.
_base_ = ["../../../configs/deeplabv3lite_mnv2_toy.py"]

crop_size = 64
model = dict(backbone=dict(widen_factor=0.35), decode_head=dict(channels=32))
train_pipeline = [
    dict(type="LoadImage"),
    dict(type="LoadSegMap"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="PadIfNeeded", min_height=crop_size, min_width=crop_size, border_mode=0, fill_mask=255),
            dict(type="RandomCrop", height=crop_size, width=crop_size),
        ],
    ),
    dict(type="PackInputs"),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(pipeline=train_pipeline)
)
val_dataloader = dict(batch_size=3, num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=1, val_interval=100)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1, save_best=None))
