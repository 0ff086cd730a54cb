# The TF object detection API's ssdlite_mobilenet_v2_coco.config train_config (the paper's SSDLite,
# 22.1 mAP on COCO test-dev; protos/optimizer.proto for the defaults it leaves out): TF's RMSProp
# (decay 0.9, momentum 0.9, epsilon 1.0), lr 0.004 for a batch of 24, exponential decay x0.95 every
# 800,720 steps (the config's 200,000 steps end before the first), moving average of the trainable
# weights 0.9999 (use_moving_average defaults to true), weight decay 4e-5 on conv weights.
# Each item beside its source: docs/recipes.md.
# Iteration-based, so it also sets the runtime's logging and checkpoints by iteration (on top of
# default_runtime.py, which configs using this schedule need not list).
_base_ = ["../default_runtime.py"]

max_iters = 200000
optim_wrapper = dict(
    type="OptimWrapper",
    optimizer=dict(type="RMSpropTF", lr=0.004, alpha=0.9, momentum=0.9, eps=1.0, weight_decay=4e-5),
    # l2_regularizer on conv weights; none on BatchNorm or biases; MobileNet's training_scope leaves the
    # backbone's depthwise weights out (TF also decays the extra layers' and predictors' depthwise ones).
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, dwconv_decay_mult=0.0),
)
param_scheduler = [dict(type="ExponentialDecayLR", step_size=800720, gamma=0.95, by_epoch=False)]
train_cfg = dict(type="IterBasedTrainLoop", max_iters=max_iters, val_interval=10000)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=24, enable=False)
# tf.contrib.opt.MovingAverageOptimizer(average_decay=0.9999): constant decay, trainable variables only.
custom_hooks = [
    dict(
        type="EMAHook",
        ema_type="TFExponentialMovingAverage",
        decay=0.9999,
        use_num_updates=False,
        update_buffers=False,
        priority=49,
    )
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(
        by_epoch=False, interval=10000, max_keep_ckpts=3, save_best="coco/bbox_mAP", rule="greater"
    ),
)
log_processor = dict(by_epoch=False)
