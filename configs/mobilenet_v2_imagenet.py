# MobileNetV2 1.0 on ImageNet at 224x224 with the paper's recipe.
# Paper: 72.0 top-1, 3.4M params, 300M MAdds; torchvision IMAGENET1K_V1: 71.878 / 90.286.
# Start from torchvision's weights instead of scratch: --cfg-options load_from=torchvision://mobilenet_v2
_base_ = [
    "_base_/models/mobilenet_v2_classifier.py",
    "_base_/datasets/imagenet.py",
    "_base_/schedules/imagenet_rmsprop.py",
    "_base_/default_runtime.py",
]
