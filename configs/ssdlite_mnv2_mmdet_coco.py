# mmdetection 3.x `ssdlite_mobilenetv2-scratch_8xb24-600e_coco` (21.3 box AP on COCO val2017: mmdetection's
# figure): the same network and inference, so its checkpoint loads as-is and predicts what mmdet predicts
# (checked against mmdet 3.3.0 itself, tests/models/test_mmdet_ssdlite.py). Evaluate a downloaded checkpoint:
#   python tools/test.py configs/ssdlite_mnv2_mmdet_coco.py \
#       ssdlite_mobilenetv2_scratch_600e_coco_20210629_110627-974d9307.pth
# mmdet keys (backbone.conv1..., neck.extra_layers..., bbox_head...; bare or under 'state_dict') are renamed
# on load. Training is mmdetection's recipe from scratch: its init (backbone and neck TruncNormal 0.03, head
# Normal 0.001), its augmentation with its semantics (configs/_base_/datasets/coco_detection.py) and schedule
# (configs/_base_/schedules/ssdlite_sgd_cosine.py); each item beside its source in docs/recipes.md.
#   bash tools/dist_train.sh configs/ssdlite_mnv2_mmdet_coco.py 8       # 8 x 24 images per step
# Where the network differs from configs/ssdlite_mnv2_coco.py (the paper's TF settings):
# - the head reads the 96-channel stride-16 output of stage 5 (mmdet's out_indices 4), not the 576-channel
#   expansion of layer 15 that TF and torchvision read;
# - mmdet's anchors (6 per location everywhere) and its inference: top 1000 per level, boxes clipped to the
#   image and empty ones dropped, NMS IoU 0.45, 200 per image; no minimum number of hard negatives.
_base_ = [
    "_base_/datasets/coco_detection.py",
    "_base_/schedules/ssdlite_sgd_cosine.py",
    "_base_/default_runtime.py",
]
data_root = "data/coco"
input_size = 320  # resized to 320x320 without keeping the aspect ratio (the dataset base's test pipeline)
default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3, save_best="coco/bbox_mAP", rule="greater"))

model = dict(
    type="SSDDetector",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",  # images load as RGB: mmdet's bgr_to_rgb=True with the same mean/std
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        pad_size_divisor=1,
    ),
    # mmdet MobileNetV2(out_indices=(4, 7)): the head reads layer14 = end of stage 5 (96 ch, stride 16) and
    # final = 1280 ch (head.in_taps).
    backbone=dict(
        type="MobileNetV2",
        widen_factor=1.0,
        bn_eps=1e-3,
        bn_momentum=0.03,
        init_cfg=dict(
            type="TruncNormal", layer="Conv2d", std=0.03
        ),  # mmengine's: truncated at +-2 (absolute)
    ),
    # mmdet SSDNeck(use_depthwise=True): 1x1 to half, 3x3 depthwise stride 2 pad 1, 1x1; BN + ReLU6 each.
    neck=dict(
        type="SSDLiteExtraLayers",
        out_channels=(512, 256, 256, 128),
        bn_eps=1e-3,
        bn_momentum=0.03,
        init_cfg=dict(type="TruncNormal", layer="Conv2d", std=0.03),
    ),
    anchor_generator=dict(
        type="MMDetSSDAnchorGenerator",
        strides=(16, 32, 64, 107, 160, 320),
        min_sizes=(48, 100, 150, 202, 253, 304),
        max_sizes=(100, 150, 202, 253, 304, 320),
        ratios=((2, 3),) * 6,
    ),
    head=dict(
        type="SSDLiteHead",  # mmdet SSDHead(use_depthwise=True)
        num_classes=80,  # + 1 background score, last (as mmdet)
        in_taps=("layer14", "final"),
        box_stds=(0.1, 0.1, 0.2, 0.2),  # DeltaXYWHBBoxCoder target_stds, means 0
        clamp_shrink=True,  # delta2bbox clamps dw, dh to +-log(1000 / 16)
        pos_iou=0.5,
        neg_iou=0.5,
        loss=dict(type="SSDLoss", neg_pos_ratio=3, min_negatives=0, smooth_l1_beta=1.0),
        # mmdet's test_cfg: nms_pre 1000 per level, score_thr 0.02, NMS IoU 0.45, max_per_img 200, min_bbox_size 0
        test_cfg=dict(
            score_thr=0.02,
            nms_pre=1000,
            nms_pre_per_level=True,
            nms_iou=0.45,
            max_per_img=200,
            clip_border=True,
            min_bbox_size=0,
        ),
        bn_eps=1e-3,
        bn_momentum=0.03,
        init_cfg=dict(type="Normal", layer="Conv2d", std=0.001),
    ),
)
