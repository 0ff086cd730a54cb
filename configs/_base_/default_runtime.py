# Runtime settings shared by every visionkit config (mmengine Runner).
default_scope = "visionkit"
custom_imports = dict(imports=["visionkit"], allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type="IterTimerHook"),
    logger=dict(type="LoggerHook", interval=50),
    param_scheduler=dict(type="ParamSchedulerHook"),
    # iter_interval=N also writes a mid-epoch resume point iter_{N}.pth every N iterations (newest kept).
    checkpoint=dict(
        type="CheckpointHook", interval=1, max_keep_ckpts=3, save_best="auto", iter_interval=None
    ),
    sampler_seed=dict(type="DistSamplerSeedHook"),
    # A NaN/inf loss stops training naming the epoch, iteration and terms; on_non_finite="skip" drops
    # the bad step instead (logged), check_grads=True also checks gradients before each step.
    non_finite=dict(type="NonFiniteCheckHook", on_non_finite="raise", check_grads=False),
    # Every head's num_classes must equal its data set's number of classes (checked before iteration 1).
    class_count=dict(type="ClassCountCheckHook"),
    # Warns before iteration 1 when processes x batch_size differs from auto_scale_lr.base_batch_size while
    # lr scaling is off (the lr would be meant for another total batch).
    lr_scale_check=dict(type="LrScaleCheckHook"),
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
# load_from (and resume) must fit the model exactly; False loads what fits and lists every skipped key.
load_from_strict = True
resume = False
# Caught while training: finish the step, write a checkpoint, exit 128 + signal (docs/training_at_scale.md).
preemption_signals = ("SIGTERM", "SIGUSR1")
