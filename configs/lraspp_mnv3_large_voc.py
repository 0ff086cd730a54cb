# LR-ASPP on MobileNetV3-Large (Searching for MobileNetV3, section 6.3), as torchvision's
# lraspp_mobilenet_v3_large: 57.9 mIoU / 91.2 pixel accuracy on COCO val2017 restricted to the 20 VOC
# classes (torchvision's published figure, not ours), 3,221,538 parameters. Its weights load as they are:
#   python tools/test.py configs/lraspp_mnv3_large_voc.py \
#       torchvision://lraspp_mobilenet_v3_large
# (downloaded once into torch's hub cache, checked against the hash in its file name). The evaluation here is on VOC 2012 val (see
# docs/segmentation.md for how it differs from torchvision's COCO subset).
_base_ = [
    "_base_/models/mnv3_large_segmentor.py",
    "_base_/datasets/voc_segmentation.py",
    "_base_/schedules/voc_poly.py",  # with the runtime (default_runtime.py)
]

num_classes = 21
output_stride = 16  # torchvision's dilated=True
resize_short_side = 520  # torchvision's SemanticSegmentation(resize_size=520) eval preset
input_size = resize_short_side  # what tools/analysis/complexity.py counts at (torchvision's _ops: 520x520)
model = dict(
    backbone=dict(output_stride=output_stride),
    # low: the first stride-8 block (40 ch, torchvision's C2); final: the 960-channel conv at stride 16.
    # in_channels default to the taps' channels.
    decode_head=dict(type="LRASPPHead", num_classes=num_classes, in_taps=("low", "final"), channels=128),
)

# torchvision's eval: the short side resized to 520 (bilinear), then normalised. The label map is loaded
# after the resize, so predictions are scored at the image's own size. albumentations resizes with cv2
# (mean difference to torchvision's antialiased resize ~0.1 grey level; it rounds the long side where
# torchvision truncates it, so that side can be 1 pixel longer).
test_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="SmallestMaxSize", max_size=resize_short_side)]),
    dict(type="LoadSegMap"),
    dict(type="PackInputs"),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
