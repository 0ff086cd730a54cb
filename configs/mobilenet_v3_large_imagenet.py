# MobileNetV3-Large 1.0 on ImageNet at 224x224 (Howard et al., arXiv 1905.02244, Table 1), laid out as
# torchvision's mobilenet_v3_large so its checkpoints load and give its logits.
# Published figures (torchvision's, not measured by visionkit): IMAGENET1K_V1 74.042 top-1 / 91.340 top-5,
# IMAGENET1K_V2 75.274 / 92.566; 5,483,032 params. The paper reports 75.2 top-1.
# Evaluate torchvision's weights (V1; V2 is torchvision://mobilenet_v3_large.imagenet1k_v2, evaluated at
# resize 232: add --cfg-options test_dataloader.dataset.pipeline.1.transforms.0.max_size=232):
#   python tools/test.py configs/mobilenet_v3_large_imagenet.py torchvision://mobilenet_v3_large
_base_ = [
    "_base_/datasets/imagenet.py",
    "_base_/schedules/imagenet_rmsprop.py",
    "_base_/default_runtime.py",
]

model = dict(
    type="ImageClassifier",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",  # mmengine's: stack, then (x - mean) / std in RGB
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
    ),
    # output_stride=16 is torchvision's dilated=True; reduced_tail=True halves the widths from C4 on.
    backbone=dict(type="MobileNetV3", arch="large", widen_factor=1.0),
    # torchvision's classifier: Linear(960, 1280) + hard-swish + dropout 0.2 + Linear(1280, 1000). At another
    # width, hidden_channels is make_divisible(1280 * widen_factor) in torchvision.
    head=dict(type="ClassifierHead", num_classes=1000, in_taps=("final",), hidden_channels=1280, dropout=0.2),
)

# torchvision's recipe for its V1 weights (references/classification, 8 GPUs x 128): RMSprop lr 0.064,
# alpha 0.9, momentum 0.9, eps 0.0316, weight decay 1e-5, lr x0.973 every 2 epochs, 600 epochs. Its
# AutoAugment (imagenet policy) and random erasing 0.2 are not in this pipeline.
train_dataloader = dict(batch_size=128)
optim_wrapper = dict(optimizer=dict(lr=0.064, weight_decay=1e-5))
param_scheduler = [dict(type="StepLR", step_size=2, gamma=0.973, by_epoch=True)]
train_cfg = dict(max_epochs=600)
auto_scale_lr = dict(base_batch_size=1024)
