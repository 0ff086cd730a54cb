# torchvision's MobileNetV2 IMAGENET1K_V2 weights (72.154 top-1: torchvision's figure, not ours): the V1 network
# evaluated as torchvision evaluates V2, ImageClassification(resize_size=232, crop_size=224): the shorter side
# resized to 232, bilinear with antialiasing (cv2's INTER_AREA is the closest), then a 224 center crop.
#   python tools/test.py configs/mobilenet_v2_imagenet1k_v2.py torchvision://mobilenet_v2.IMAGENET1K_V2
_base_ = ["mobilenet_v2_imagenet_torchvision.py"]

resize_size = 232
crop_size = 224
test_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="SmallestMaxSize", max_size=resize_size, interpolation=3),  # 3: cv2.INTER_AREA
            dict(type="CenterCrop", height=crop_size, width=crop_size),
        ],
    ),
    dict(type="PackInputs"),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
