"""The warning when processes x batch differs from the batch the config's lr is for."""

from types import SimpleNamespace

from mmengine.config import Config

from visionkit.engine.hooks import LrScaleCheckHook, lr_scale_warning


def test_warning_text_on_one_gpu_with_the_coco_recipe() -> None:
    message = lr_scale_warning(1, 24, 192, scaling=False, lr=0.015)
    assert message == (
        "Training with 1 process(es) x 24 images = 24 images per step, but the config's learning rate "
        "(lr 0.015) is for a total batch of 192 (auto_scale_lr.base_batch_size) and lr scaling is off: "
        "each image gets 8x the per-image learning rate the recipe was tuned for. Pass --auto-scale-lr "
        "(auto_scale_lr.enable=True) to scale the lr linearly to 24, or set train_dataloader.batch_size=192 "
        "to train at the recipe's total batch."
    )


def test_no_warning_when_the_batch_fits_or_scaling_is_on() -> None:
    assert lr_scale_warning(8, 24, 192, scaling=False) is None
    assert lr_scale_warning(1, 24, 192, scaling=True) is None
    assert lr_scale_warning(1, 24, None, scaling=False) is None


def test_too_large_a_batch_and_an_uneven_split() -> None:
    message = lr_scale_warning(3, 16, 16, scaling=False)
    assert "3 process(es) x 16 images = 48 images" in message and "0.333x the per-image" in message
    assert "or change train_dataloader.batch_size" in message  # 16 / 3 is no batch size


class _Logger:
    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def test_hook_reads_the_loader_and_config() -> None:
    cfg = Config(
        dict(
            auto_scale_lr=dict(base_batch_size=16, enable=False), optim_wrapper=dict(optimizer=dict(lr=0.007))
        )
    )
    runner = SimpleNamespace(train_dataloader=SimpleNamespace(batch_size=8), cfg=cfg, logger=_Logger())
    LrScaleCheckHook().before_train(runner)
    assert len(runner.logger.warnings) == 1 and "1 process(es) x 8 images" in runner.logger.warnings[0]
    assert "(lr 0.007)" in runner.logger.warnings[0] and "batch_size=16" in runner.logger.warnings[0]
    runner.cfg.auto_scale_lr.enable = True
    runner.logger.warnings.clear()
    LrScaleCheckHook().before_train(runner)
    assert runner.logger.warnings == []
