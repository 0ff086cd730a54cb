"""Checkpoint key converters: load-state-dict pre-hooks that rename other libraries' keys to visionkit's,
so their checkpoints load into visionkit models as-is. One module per source and model family:

| module | checkpoints |
|---|---|
| ``torchvision_mobilenet_v2`` / ``_v3`` | torchvision ``mobilenet_v2`` / ``mobilenet_v3_*`` (backbones) |
| ``torchvision_classifier`` | torchvision classifiers: features to the backbone, ``classifier`` to the head |
| ``torchvision_segmentation`` | torchvision ``deeplabv3_*`` / ``lraspp_*`` |
| ``torchvision_ssdlite`` | torchvision ``ssdlite320_mobilenet_v3_large`` |
| ``mmdet_mobilenet_v2`` / ``mmdet_ssd`` | mmdetection's MobileNetV2 backbone and SSDLite |
| ``timm_mobilenet`` | timm ``mobilenetv2_*``, ``mobilenetv3_large_*`` / ``_small_*`` (and classifiers) |
| ``paddleclas_mobilenet_v2`` | PaddleClas ``MobileNetV2*`` ``.pdparams`` (backbone and classifier) |
"""
