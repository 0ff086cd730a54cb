# MobileNetV2 1.0 laid out as PaddleClas builds it (ppcls/arch/backbone/model_zoo/mobilenet_v2.py), so that
# its .pdparams files load as they are and give its logits: the t=1 first block has a 1x1 expansion too (32 ->
# 32), widths are int(c * scale) (not rounded to multiples of 8), no dropout before the classifier. Published
# figures (PaddleClas's, not measured by visionkit): MobileNetV2 72.15 top-1 / 90.65 top-5; MobileNetV2_ssld
# 76.74 / 93.39 (configs/mobilenet_v2_paddle_ssld_imagenet.py); widths 0.25-2.0 beside this file.
#   python tools/test.py configs/mobilenet_v2_paddle_imagenet.py paddleclas://MobileNetV2
_base_ = [
    "_base_/models/mobilenet_v2_classifier.py",
    "_base_/datasets/imagenet.py",
    "_base_/schedules/imagenet_sgd_torchvision.py",
    "_base_/default_runtime.py",
]

model = dict(
    backbone=dict(widen_factor=1.0, expand_first_block=True, width_rounding="floor"),
    head=dict(dropout=0.0),
)
# PaddleClas's evaluation (ppcls/configs/ImageNet/MobileNetV2/MobileNetV2.yaml, Eval):
# ResizeImage(resize_short=256), cv2's bilinear with the other side rounded, CropImage(224) at the centre,
# ImageNet mean / std on RGB: the test pipeline of _base_/datasets/imagenet.py (albumentations'
# SmallestMaxSize resizes with cv2's bilinear too). Its training recipe: Momentum 0.9, lr 0.045 cosine (per
# iteration) over 240 epochs, L2 4e-5 (3e-5 at x0.25 and x0.5), 64 images per GPU on the 4 GPUs of its
# training docs, RandCropImage(224) + flip (the base pipeline's).
train_dataloader = dict(batch_size=64)
optim_wrapper = dict(optimizer=dict(lr=0.045, momentum=0.9, weight_decay=4e-5))
param_scheduler = [
    dict(type="CosineAnnealingLR", T_max=240, eta_min=0, by_epoch=True, convert_to_iter_based=True)
]
train_cfg = dict(max_epochs=240)
auto_scale_lr = dict(base_batch_size=256)
