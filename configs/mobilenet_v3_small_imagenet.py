# MobileNetV3-Small 1.0 on ImageNet at 224x224 (Howard et al., arXiv 1905.02244, Table 2): the Large
# config with the Small layout and its 1024-wide classifier, laid out as torchvision's mobilenet_v3_small.
# Published figures (torchvision's, not measured by visionkit): IMAGENET1K_V1 67.668 top-1 / 87.402 top-5;
# 2,542,856 params. The paper reports 67.4 top-1.
#   python tools/test.py configs/mobilenet_v3_small_imagenet.py torchvision://mobilenet_v3_small
_base_ = ["mobilenet_v3_large_imagenet.py"]

model = dict(backbone=dict(arch="small"), head=dict(hidden_channels=1024))
