# torchvision's MobileNetV2 recipe (IMAGENET1K_V1, 71.878 top-1; references/classification/README.md
# "MobileNetV2": --epochs 300 --lr 0.045 --wd 0.00004 --lr-step-size 1 --lr-gamma 0.98 on 8 GPUs x the default
# batch 32): SGD momentum 0.9, weight decay on every parameter (train.py's default --norm-weight-decay None),
# lr x0.98 every epoch, no warm-up, no label smoothing, no moving average.
optim_wrapper = dict(
    type="OptimWrapper", optimizer=dict(type="SGD", lr=0.045, momentum=0.9, weight_decay=4e-5)
)
param_scheduler = [dict(type="StepLR", step_size=1, gamma=0.98, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# The lr above is for 8 processes x 32 images; --auto-scale-lr scales it linearly to yours.
auto_scale_lr = dict(base_batch_size=256, enable=False)
