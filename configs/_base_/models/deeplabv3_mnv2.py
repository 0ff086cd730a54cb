# Mobile DeepLabv3 (MobileNetV2 paper section 6.3, Table 7): MobileNetV2 1.0 at output stride 16 with the
# DeepLabv3 ASPP head on the 320-channel layer18 (the paper's MNV2*), 21 VOC classes.
model = dict(
    type="Segmentor",
    data_preprocessor=dict(
        type="ImgDataPreprocessor",  # mmengine's: (x - mean) / std in RGB, then pad bottom/right with 0
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
    ),
    backbone=dict(type="MobileNetV2", widen_factor=1.0, output_stride=16),
    # in_channels defaults to the backbone tap's channels. Rates (6, 12, 18) at output stride 16;
    # double them at output stride 8; dilations=() is the paper's mobile model (no atrous branches).
    decode_head=dict(
        type="ASPPHead",
        num_classes=21,
        in_taps=("layer18",),
        channels=256,
        dilations=(6, 12, 18),
        dropout=0.1,
    ),
    test_cfg=dict(mode="whole"),
)
