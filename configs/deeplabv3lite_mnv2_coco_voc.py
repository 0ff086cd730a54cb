# The COCO stage of Mobile DeepLabv3 (the 75.32 model was trained ImageNet -> COCO -> VOC trainaug; TF
# DeepLab model_zoo.md mobilenetv2_coco_voc_trainaug): COCO 2017 train images with VOC's 20 categories drawn
# as 21-class label maps (visionkit.datasets.CocoVOCSegmentation; other categories are background, overlaps
# ignored), the images whose VOC-class annotations cover more than 1000 pixels (the DeepLabv3 paper's and
# torchvision's selection). Then fine-tune on VOC trainaug from its last checkpoint (docs/segmentation.md):
#   python tools/train.py configs/deeplabv3lite_mnv2_coco_voc.py
#   python tools/train.py configs/deeplabv3lite_mnv2_voc.py \
#       --cfg-options load_from=work_dirs/deeplabv3lite_mnv2_coco_voc/epoch_30.pth
# TF DeepLab publishes no COCO schedule: this stage keeps its VOC protocol (SGD 0.007 poly 0.9, 16 crops of
# 512, scales 0.5-2.0, BatchNorm fine-tuned) for torchvision's 30 epochs of COCO-with-VOC-labels training.
# Validation is on COCO val2017 with VOC's classes (torchvision's evaluation set for such models).
_base_ = ["deeplabv3lite_mnv2_voc.py"]

coco_root = "data/coco"
max_epochs = 30
coco_train_pipeline = [
    dict(type="LoadImage"),
    dict(type="LoadCocoSemanticMap", crowd="class"),  # torchvision's: crowd regions take their class
    *_base_.train_pipeline[2:],  # the VOC recipe's scale, pad, crop and flip
]
coco_test_pipeline = [dict(type="LoadImage"), dict(type="LoadCocoSemanticMap"), dict(type="PackInputs")]
train_dataloader = dict(
    sampler=dict(type="DefaultSampler", shuffle=True),
    dataset=dict(
        _delete_=True,
        type="CocoVOCSegmentation",
        data_root=coco_root,
        ann_file="annotations/instances_train2017.json",
        data_prefix=dict(img="train2017/"),
        min_area=1000,
        pipeline=coco_train_pipeline,
    ),
)
val_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type="CocoVOCSegmentation",
        data_root=coco_root,
        ann_file="annotations/instances_val2017.json",
        data_prefix=dict(img="val2017/"),
        test_mode=True,
        pipeline=coco_test_pipeline,
    )
)
test_dataloader = val_dataloader

param_scheduler = [
    dict(
        type="PolyLR",
        power=0.9,
        eta_min=0.0,
        begin=0,
        end=max_epochs,
        by_epoch=True,
        convert_to_iter_based=True,
    )
]
train_cfg = dict(_delete_=True, type="EpochBasedTrainLoop", max_epochs=max_epochs, val_interval=5)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=True, interval=1, max_keep_ckpts=3, save_best="mIoU", rule="greater"),
)
log_processor = dict(by_epoch=True)
