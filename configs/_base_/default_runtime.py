# Runtime settings shared by every visionkit config (mmengine Runner).
default_scope = "visionkit"
custom_imports = dict(imports=["visionkit"], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=50),
    param_scheduler=dict(type="ParamSchedulerHook"),
    checkpoint=dict(type="CheckpointHook", interval=1, max_keep_ckpts=3, save_best="auto"),
    sampler_seed=dict(type="DistSamplerSeedHook"),
)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method="fork", opencv_num_threads=0),
    dist_cfg=dict(backend="auto"),  # nccl with CUDA, gloo without (visionkit.engine.dist)
)
vis_backends = [dict(type="LocalVisBackend")]
visualizer = dict(type="Visualizer", vis_backends=vis_backends)
log_processor = dict(type="LogProcessor", window_size=10, by_epoch=True)
log_level = "INFO"
randomness = dict(seed=None)
load_from = None
resume = False
