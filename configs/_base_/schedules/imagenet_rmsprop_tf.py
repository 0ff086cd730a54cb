# TF-slim's MobileNetV2 ImageNet run (72.0 top-1; research/slim/nets/mobilenet/README.md "Training / V2" and
# research/slim/train_image_classifier.py): TF's RMSProp (decay 0.9, momentum 0.9, opt_epsilon 1.0), lr 0.045
# per clone of 96 images on 8 clones (0.36 for the total 768), x0.98 staircase every 2.5 epochs, about 700k
# steps (420 epochs), weight decay 4e-5 on conv and fully connected weights only, moving average 0.9999.
# Every item beside its source: docs/recipes.md.
optim_wrapper = dict(
    type="OptimWrapper",
    # visionkit.engine.optimizers.RMSpropTF: mean square starts at 1, eps inside the square root, lr inside
    # the momentum buffer. At eps 1.0 a step is SGD-like, so the lr scales linearly with the batch.
    optimizer=dict(type="RMSpropTF", lr=0.36, alpha=0.9, momentum=0.9, eps=1.0, weight_decay=4e-5),
    # TF-slim's mobilenet training_scope: l2 on slim.conv2d (logits included) weights; separable_conv2d
    # (depthwise) weights_regularizer=None; BatchNorm and biases are not regularised.
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, dwconv_decay_mult=0.0),
)
# tf.train.exponential_decay(0.045 * 8, step, int(N / 96 * 2.5 / 8), 0.98, staircase=True): every 2.5 epochs.
param_scheduler = [
    dict(type="ExponentialDecayLR", step_size=2.5, gamma=0.98, by_epoch=True, convert_to_iter_based=True)
]
# No warm-up: train_image_classifier.py has none (the mean square starting at 1 makes the first ~20 steps
# about 1/sqrt(2) of the later ones). When scaling well past 768 images per step, add Goyal et al.'s:
#   dict(type="LinearLR", start_factor=0.1, by_epoch=True, begin=0, end=5, convert_to_iter_based=True)
train_cfg = dict(by_epoch=True, max_epochs=420, val_interval=5)
val_cfg = dict()
test_cfg = dict()
# The lr above is for 8 processes x 96 images; --auto-scale-lr scales it linearly to yours (0.045 for 96).
auto_scale_lr = dict(base_batch_size=768, enable=False)
# --moving_average_decay=0.9999 with num_updates=global_step, over slim.get_model_variables() (BatchNorm's
# moving statistics included). Validation and checkpoints' ema_state_dict use the average.
custom_hooks = [
    dict(
        type="EMAHook",
        ema_type="TFExponentialMovingAverage",
        decay=0.9999,
        use_num_updates=True,
        update_buffers=True,
        priority=49,
    )
]
