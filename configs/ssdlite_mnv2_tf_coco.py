# TF object detection's published ssdlite_mobilenet_v2_coco (detection_model_zoo.md: 22 COCO mAP on its minival;
# the paper's 22.1 is on test-dev: TF's figures, not measured by visionkit), with the release's preprocessing
# and post-processing, so its archive loads as it is and gives TF's detections:
#   python tools/test.py configs/ssdlite_mnv2_tf_coco.py \
#       http://download.tensorflow.org/models/object_detection/ssdlite_mobilenet_v2_coco_2018_05_09.tar.gz
# What differs from configs/ssdlite_mnv2_coco.py (the paper's recipe, trained in visionkit):
# - 300x300 inputs resized as TF 1 does (TFResize: float, no half-pixel centres), mapped to [-1, 1];
# - TF's "SAME" padding (tf_padding) in the backbone and the extra layers, BatchNorm eps 1e-3;
# - 91 sigmoid scores with background first in the file: background moved last on load, label j is COCO
#   category j + 1 (label_cat_ids); each anchor's box code (ty, tx, th, tw) reordered on load;
# - anchors with aspect ratio 0.3333 (the pipeline.config's value; 1/3 moves boxes by up to 0.012 px);
# - TF's post-processing: score > 1e-8, every (anchor, class) pair into per-class NMS at IoU 0.6, at most 100
#   per class, boxes clipped to the image after NMS (empty ones dropped), 100 in all;
# - fine-tuning uses the loss the release was trained with: sigmoid cross-entropy over the 91 columns, hard
#   negatives 3:1 (at least 3 per image), smooth-L1 boxes, both over the number of matches.
_base_ = ["ssdlite_mnv2_coco.py"]

input_size = 300
model = dict(
    data_preprocessor=dict(mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5]),
    backbone=dict(tf_padding=True, bn_eps=1e-3, init_cfg=None),
    neck=dict(tf_padding=True),
    anchor_generator=dict(aspect_ratios=(1.0, 2.0, 0.5, 3.0, 0.3333)),
    head=dict(
        num_classes=90,  # TF's 91 scores minus background
        score_activation="sigmoid",
        loss=dict(use_sigmoid=True),
        test_cfg=dict(
            score_thr=1e-8, nms_pre=None, nms_iou=0.6, max_per_class=100, max_per_img=100, clip_after_nms=True
        ),
    ),
)
label_cat_ids = list(range(1, 91))  # TF's label j + 1 is COCO category j + 1
test_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="TFResize", height=input_size, width=input_size)]),
    dict(type="PackInputs"),
]
val_evaluator = dict(label_cat_ids=label_cat_ids)
test_evaluator = val_evaluator
val_dataloader = dict(dataset=dict(label_cat_ids=label_cat_ids, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_pipeline = [
    dict(type="LoadImage"),
    dict(
        type="Albumentations",
        transforms=[
            dict(type="HorizontalFlip", p=0.5),
            dict(type="SSDRandomCrop"),
            dict(type="Resize", height=input_size, width=input_size),
        ],
    ),
    dict(type="PackInputs"),
]
train_dataloader = dict(dataset=dict(label_cat_ids=label_cat_ids, pipeline=train_pipeline))
