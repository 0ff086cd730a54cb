# The toy SSDLite config shrunk for the 2-process CI test (tests/tools/test_distributed.py): width 0.35,
# 96-pixel inputs, batch 2 per process, no dataloader workers, a checkpoint every epoch.
_base_ = ["../../../configs/ssdlite_mnv2_toy.py"]

image_size = 96
model = dict(backbone=dict(widen_factor=0.35), neck=dict(widen_factor=0.35))
train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="Resize", height=image_size, width=image_size),
            dict(type="HorizontalFlip", p=0.5),
        ],
    ),
    dict(type="PackInputs"),
]
test_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="Resize", height=image_size, width=image_size)]),
    dict(type="PackInputs"),
]
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(pipeline=train_pipeline)
)
val_dataloader = dict(
    batch_size=3, num_workers=0, persistent_workers=False, dataset=dict(pipeline=test_pipeline)
)
test_dataloader = val_dataloader
test_evaluator = dict(type="CocoMetric", classwise=False)
train_cfg = dict(max_epochs=1, val_interval=100)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=-1, save_best=None))
