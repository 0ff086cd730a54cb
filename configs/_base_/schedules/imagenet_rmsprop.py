# torchvision's RMSprop recipe for its MobileNetV3 weights (references/classification/README.md
# "MobileNetV3 Large & Small"): PyTorch's RMSprop with torchvision train.py's eps=0.0316 and alpha=0.9 (eps
# outside the square root, mean square from 0: not TF's RMSProp, which imagenet_rmsprop_tf.py has), momentum
# 0.9, weight decay 1e-5, lr 0.064 for 8 x 128 images x0.973 every 2 epochs, 600 epochs. The MobileNetV3
# configs set the lr, decay and epochs they use.
optim_wrapper = dict(
    type="OptimWrapper",
    optimizer=dict(type="RMSprop", lr=0.064, alpha=0.9, momentum=0.9, eps=0.0316, weight_decay=1e-5),
)
param_scheduler = [dict(type="StepLR", step_size=2, gamma=0.973, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=600, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024, enable=False)
