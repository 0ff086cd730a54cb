# mmdetection's SSDLite-from-scratch schedule: SGD lr 0.015 for a total batch of 192 (8 GPUs x 24),
# momentum 0.9, weight decay 4e-5, 500-iteration linear warm-up, cosine decay over 120 epochs of a 5x
# repeated COCO train set (the "600e" in mmdet's config name).
max_epochs = 120
optim_wrapper = dict(
    type="OptimWrapper", optimizer=dict(type="SGD", lr=0.015, momentum=0.9, weight_decay=4.0e-5)
)
param_scheduler = [
    dict(type="LinearLR", start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type="CosineAnnealingLR", begin=0, T_max=max_epochs, end=max_epochs, by_epoch=True, eta_min=0),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
# The lr above is for 192 images per step; --auto-scale-lr (tools/train.py) scales it linearly.
auto_scale_lr = dict(base_batch_size=192, enable=False)
