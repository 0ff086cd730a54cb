# torchvision `ssdlite320_mobilenet_v3_large` COCO_V1 (21.3 box AP on COCO val2017: torchvision's figure, not
# measured by visionkit): the same network and inference, so torchvision's state_dict file loads as-is and
# predicts what torchvision predicts (tests/models/test_torchvision_ssdlite.py). Evaluate it:
#   python tools/test.py configs/ssdlite320_mnv3_large_coco.py torchvision://ssdlite320_mobilenet_v3_large
# Where this differs from configs/ssdlite_mnv2_coco.py (the paper's TF settings on MobileNetV2):
# - MobileNetV3-Large with torchvision's reduced tail (widths halved from C4 on: `final` has 480 channels);
#   the head reads the C4 block's 672-ch expansion (stride 16) and `final` (stride 32);
# - torchvision's DefaultBoxGenerator (6 boxes everywhere, scales 0.2..0.95 with clipping), [-1, 1] inputs;
# - 91 scores in torchvision's file (background + COCO category ids 1..90, gaps included): visionkit keeps 90
#   classes, background moved last on load, label j = category j + 1 (test_evaluator.label_cat_ids);
# - torchvision's inference: score > 0.001, the best 300 anchors of each class, NMS IoU 0.55, 300 per image.
_base_ = [
    "_base_/datasets/coco_detection.py",
    "_base_/schedules/ssdlite_sgd_cosine.py",
    "_base_/default_runtime.py",
]
data_root = "data/coco"
input_size = 320  # resized to 320x320 without keeping the aspect ratio, as torchvision's fixed_size
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3, save_best="coco/bbox_mAP", rule="greater"))

model = dict(
    type="SSDDetector",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",  # torchvision: x / 255, then (x - 0.5) / 0.5
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        pad_size_divisor=1,
    ),
    # mobilenet_v3_large(reduced_tail=True, norm_layer=BatchNorm2d(eps=0.001, momentum=0.03))
    backbone=dict(type="MobileNetV3", arch="large", reduced_tail=True, bn_eps=1e-3, bn_momentum=0.03),
    # torchvision _extra_block: 1x1 to out // 2, 3x3 depthwise stride 2, 1x1 to out; BN + ReLU6 after each.
    neck=dict(type="SSDLiteExtraLayers", out_channels=(512, 256, 256, 128), bn_eps=1e-3, bn_momentum=0.03),
    # DefaultBoxGenerator([[2, 3]] * 6, min_ratio=0.2, max_ratio=0.95), clip=True
    anchor_generator=dict(
        type="TorchvisionSSDAnchorGenerator",
        min_scale=0.2,
        max_scale=0.95,
        ratios=((2, 3),) * 6,
        clip=True,
    ),
    head=dict(
        type="SSDLiteHead",  # torchvision SSDLiteHead: 3x3 depthwise + BN + ReLU6, 1x1 conv; N(0, 0.03) init
        num_classes=90,  # torchvision's 91 minus background, which is moved last on load
        in_taps=("c4_expansion", "final"),
        box_stds=(0.1, 0.1, 0.2, 0.2),  # BoxCoder weights (10, 10, 5, 5); dw, dh clamped at log(1000 / 16)
        pos_iou=0.5,
        neg_iou=0.5,
        loss=dict(type="SSDLoss", neg_pos_ratio=3, min_negatives=0, smooth_l1_beta=1.0),
        # postprocess_detections: softmax; per class score > 0.001 and its top 300 (topk_candidates); boxes
        # clipped to the image; class-aware NMS IoU 0.55; the best 300 (detections_per_img).
        test_cfg=dict(
            score_thr=0.001,
            topk_per_class=300,
            nms_pre=90 * 300,  # every per-class candidate: torchvision has no overall limit
            nms_iou=0.55,
            max_per_img=300,
            clip_border=True,
        ),
        bn_eps=1e-3,
        bn_momentum=0.03,
    ),
)
# Predicted label j is COCO category j + 1 (torchvision's label space); categories COCO 2017 lacks are dropped.
val_evaluator = dict(label_cat_ids=list(range(1, 91)))
test_evaluator = val_evaluator
