# SSDLite on MobileNetV2 1.0 (paper section 6.2, Table 6): 80 COCO classes, 320x320 input.
# 4.34M params, 0.79B MAdds with the TF anchors below (paper: 4.3M, 0.8B); 4.48M / 0.85B with mmdet's.
model = dict(
    type="SSDDetector",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",  # mmengine's: stack, (x - mean) / std in RGB, pad bottom/right
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        pad_size_divisor=1,
    ),
    # For ImageNet weights add init_cfg=dict(type="Pretrained", checkpoint="torchvision://mobilenet_v2").
    backbone=dict(type="MobileNetV2", widen_factor=1.0),
    # Runs on the last of head.in_taps; in_channels and the head's in_channels come from the backbone's
    # tap table and the neck.
    neck=dict(type="SSDLiteExtraLayers", out_channels=(512, 256, 256, 128), widen_factor=1.0),
    # TF object detection ssdlite_mobilenet_v2_coco anchors. mmdetection's setting instead (its defaults:
    # strides 16..320, min sizes 48..304, max sizes 100..320, ratios (2, 3)):
    # anchor_generator=dict(_delete_=True, type="MMDetSSDAnchorGenerator"),
    anchor_generator=dict(
        type="TFSSDAnchorGenerator",
        num_levels=6,
        min_scale=0.2,
        max_scale=0.95,
        aspect_ratios=(1.0, 2.0, 0.5, 3.0, 1.0 / 3.0),
        interpolated_scale_aspect_ratio=1.0,
        reduce_boxes_in_lowest_layer=True,
    ),
    head=dict(
        type="SSDLiteHead",
        num_classes=80,  # + 1 background score, last
        # Taps read: layer-15 expansion (576 ch, stride 16) and the final 1280-ch layer (stride 32).
        in_taps=("layer15_expansion", "final"),
        box_stds=(0.1, 0.1, 0.2, 0.2),  # TF box coder scales (10, 10, 5, 5)
        pos_iou=0.5,
        neg_iou=0.5,
        loss=dict(
            type="SSDLoss",
            neg_pos_ratio=3,
            min_negatives=3,  # TF's min_negatives_per_image; 0 = torchvision / mmdet
            smooth_l1_beta=1.0,
            loss_cls_weight=1.0,
            loss_bbox_weight=1.0,
        ),
        # Inference (TF: NMS IoU 0.6, 100 detections; mmdet: score 0.02, nms_pre 1000, IoU 0.45, 200).
        test_cfg=dict(score_thr=0.01, nms_pre=1000, nms_iou=0.6, max_per_img=100),
    ),
)
