# TF DeepLab's PASCAL VOC recipe (research/deeplab train.py): SGD with momentum 0.9, learning rate 0.007
# (their value for train_aug) with the "poly" policy (power 0.9), weight decay 4e-5, 30,000 iterations,
# crop 513x513, batch 8 (16 in the DeepLabv3 paper; fine-tuning BatchNorm wants >= 12).
# Differences, and why:
# - Crop 512 instead of 513: TF's align_corners=True resizing wants 16k+1 sizes; our bilinear resizing
#   (align_corners=False, torchvision's and mmsegmentation's) fits 16k, and Table 7 quotes 512x512.
# - Scales are continuous in 0.5..2.0 (albumentations' RandomScale); TF steps them by 0.25.
# - The published 75.32 mIoU starts from a COCO-trained checkpoint; only ImageNet (torchvision) weights
#   are wired here (see the model configs), so expect less without the COCO stage.
max_iters = 30000
optim_wrapper = dict(
    type="OptimWrapper", optimizer=dict(type="SGD", lr=0.007, momentum=0.9, weight_decay=4e-5)
)
param_scheduler = [dict(type="PolyLR", power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type="IterBasedTrainLoop", max_iters=max_iters, val_interval=3000)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=8, enable=False)
