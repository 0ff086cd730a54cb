# TF DeepLab's PASCAL VOC recipe (research/deeplab/train.py): SGD with momentum 0.9, learning rate 0.007 (its
# value for train_aug) with the "poly" policy (power 0.9), weight decay 4e-5 (MobileNetV2), 30,000 iterations,
# 16 images per step with BatchNorm fine-tuned (fine_tune_batch_norm=True), biases at twice the learning rate
# (train_utils.get_model_gradient_multipliers). Each item beside its source: docs/recipes.md.
# Differences, and why:
# - Crop 512 instead of 513: TF's align_corners=True resizing wants 16k+1 sizes; our bilinear resizing
#   (align_corners=False, torchvision's and mmsegmentation's) fits 16k, and Table 7 quotes 512x512.
# - The published 75.32 mIoU starts from a COCO-trained checkpoint (ImageNet -> COCO -> VOC trainaug):
#   configs/deeplabv3lite_mnv2_coco_voc.py is the COCO stage (docs/segmentation.md, "Two stages").
# Iteration-based, so it also sets the runtime's logging and checkpoints by iteration (on top of
# default_runtime.py, which configs using this schedule need not list).
_base_ = ["../default_runtime.py"]

max_iters = 30000
optim_wrapper = dict(
    type="OptimWrapper",
    optimizer=dict(type="SGD", lr=0.007, momentum=0.9, weight_decay=4e-5),
    # TF: l2 on conv weights, not on depthwise ones (MobileNet's training_scope), BatchNorm or biases;
    # biases at 2x the lr.
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, dwconv_decay_mult=0.0, bias_lr_mult=2.0),
)
param_scheduler = [dict(type="PolyLR", power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type="IterBasedTrainLoop", max_iters=max_iters, val_interval=3000)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=16, enable=False)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=3000, max_keep_ckpts=3, save_best="mIoU", rule="greater"),
)
log_processor = dict(by_epoch=False)
# BatchNorm statistics over the whole batch of every process (mmsegmentation's SyncBN): with 16 images split
# over several GPUs, per-process BatchNorm would see 2-8 crops. mmengine converts only when distributed; on
# CPU processes visionkit keeps plain BatchNorm (torch's SyncBatchNorm needs GPUs) and warns.
sync_bn = "torch"
