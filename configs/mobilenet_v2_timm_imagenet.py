# timm's mobilenetv2_100 (timm/models/efficientnet.py, _gen_mobilenet_v2): the paper's network with TF slim's
# widths and BN eps 1e-5, torchvision's layout under other names, so its .pth / .safetensors files load as
# they are. Published figure (timm's results/results-imagenet.csv, not measured by visionkit):
# mobilenetv2_100.ra_in1k 72.910 top-1 / 91.000 top-5. The other timm MobileNets:
# configs/mobilenet_v2_timm_{050,140,110d,120d}_imagenet.py,
# configs/mobilenet_v3_{large,small}_timm_imagenet.py.
#   python tools/test.py configs/mobilenet_v2_timm_imagenet.py timm://mobilenetv2_100
_base_ = ["mobilenet_v2_imagenet_torchvision.py"]

# timm's evaluation (its pretrained_cfg: bicubic, crop_pct 0.875, ImageNet mean / std): the shorter side to
# 224 / 0.875 = 256 with Pillow's bicubic, the other side truncated, then a 224 centre crop whose offset is
# rounded; from the same decoded pixels this is timm's create_transform to the bit
# (tests/models/test_timm_zoo.py).
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
# Training is the base config's torchvision recipe; timm's `ra` weights came from its RandAugment recipe
# (RMSpropTF, EMA, random erasing), which this pipeline does not have.
