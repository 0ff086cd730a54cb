# timm's mobilenetv3_large_100 (timm/models/mobilenetv3.py): torchvision's MobileNetV3-Large layout with BN
# eps 1e-5 (timm's PyTorch-trained V3s; torchvision's 1e-3), its head a 1x1 conv 960 -> 1280 with bias after
# pooling (this config's hidden Linear), so timm's .pth / .safetensors files load as they are. Published
# figure (timm's results-imagenet.csv, not measured by visionkit): mobilenetv3_large_100.ra_in1k 75.784 top-1
# / 92.528 top-5.
#   python tools/test.py configs/mobilenet_v3_large_timm_imagenet.py timm://mobilenetv3_large_100
_base_ = ["mobilenet_v3_large_imagenet.py"]

model = dict(backbone=dict(bn_eps=1e-5))
# timm's evaluation, as configs/mobilenet_v2_timm_imagenet.py: Pillow's bicubic to 256, rounded 224 centre
# crop.
input_size = 224
test_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="ResizeEdge", scale=256, edge="short", interpolation="bicubic"),
            dict(type="RoundedCenterCrop", height=input_size, width=input_size),
        ],
    ),
    dict(type="PackInputs"),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# Training is the base config's torchvision recipe, not timm's.
