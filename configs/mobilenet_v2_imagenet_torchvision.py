# MobileNetV2 1.0 on ImageNet at 224x224 with torchvision's recipe, which produced its IMAGENET1K_V1 weights
# (71.878 top-1 / 90.286 top-5: torchvision's figures; references/classification/README.md "MobileNetV2").
# Evaluates torchvision's checkpoint as torchvision does (resize 256, centre crop 224):
#   python tools/test.py configs/mobilenet_v2_imagenet_torchvision.py torchvision://mobilenet_v2
# The paper's TF-slim recipe (72.0): configs/mobilenet_v2_imagenet.py. Item by item: docs/recipes.md.
_base_ = [
    "_base_/models/mobilenet_v2_classifier.py",
    "_base_/datasets/imagenet.py",  # RandomResizedCrop(224) + flip; resize 256 + centre crop 224
    "_base_/schedules/imagenet_sgd_torchvision.py",
    "_base_/default_runtime.py",
]
# torchvision's train.py default --batch-size 32 per GPU, on 8 GPUs.
train_dataloader = dict(batch_size=32)
