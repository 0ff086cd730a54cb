# PaddleClas's MobileNetV2_ssld: the MobileNetV2 1.0 network of mobilenet_v2_paddle_imagenet.py, trained by
# PaddleClas with SSLD (its semi-supervised label knowledge distillation). Published figure (PaddleClas's, not
# measured by visionkit): 76.74 top-1 / 93.39 top-5 at 224, evaluated as the plain model is.
#   python tools/test.py configs/mobilenet_v2_paddle_ssld_imagenet.py paddleclas://MobileNetV2_ssld
# Training here is the plain recipe of the base config (SSLD's distillation is not part of visionkit).
_base_ = ["mobilenet_v2_paddle_imagenet.py"]
