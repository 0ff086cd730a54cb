# The MobileNetV2 paper's ImageNet recipe (section 6.1): RMSProp with decay and momentum 0.9, weight decay
# 4e-5, learning rate 0.045 decayed x0.98 per epoch, batch 96.
# Differences, and why:
# - PyTorch's RMSprop adds eps outside the square root, TF's inside; eps=0.0316 here ~ TF's 1e-3.
# - The paper trains with 16 asynchronous workers; here training is synchronous (DDP), batch 96 per GPU.
#   Scale the learning rate with --auto-scale-lr (tools/train.py) when the total batch differs.
# - The paper gives no epoch count: 300 epochs (lr 0.045 x 0.98^300 ~ 1e-4 at the end).
optim_wrapper = dict(
    type="OptimWrapper",
    optimizer=dict(type="RMSprop", lr=0.045, alpha=0.9, momentum=0.9, eps=0.0316, weight_decay=4e-5),
)
param_scheduler = [dict(type="ExponentialLR", gamma=0.98, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=96, enable=False)
# TF-slim's MobileNet training evaluates an exponential moving average of the weights (decay 0.9999);
# mmengine's EMAHook with momentum 1 - 0.9999. Checkpoints keep both (ema_state_dict); validation uses the
# average. tools/train.py --ema adds the same hook to any config.
custom_hooks = [dict(type="EMAHook", ema_type="ExponentialMovingAverage", momentum=1e-4, priority=49)]
