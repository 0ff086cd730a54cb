# MobileNetV2 1.0 image classifier (paper Table 2), 1000 ImageNet classes.
model = dict(
    type="ImageClassifier",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",  # mmengine's: stack, then (x - mean) / std in RGB
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
    ),
    backbone=dict(type="MobileNetV2", widen_factor=1.0),
    # in_channels defaults to the backbone tap's channels.
    head=dict(type="ClassifierHead", num_classes=1000, in_taps=("final",), dropout=0.2, label_smoothing=0.0),
)
