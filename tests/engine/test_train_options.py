"""tools/train.py's scale flags turn into config settings the Runner honours."""

import argparse
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from torch import nn

from visionkit.engine import amp as amp_module
from visionkit.engine.amp import CPUAutocastOptimWrapper, amp_optim_wrapper, cpu_supports_bfloat16
from visionkit.engine.runner import Runner
from visionkit.engine.train_arguments import add_scale_arguments, apply_scale_arguments

from .tiny_runs import make_tiny_set, tiny_cfg

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
SGD = dict(type="OptimWrapper", optimizer=dict(type="SGD", lr=0.1))


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_scale_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_fill_in_the_config() -> None:
    cfg = Config(dict(optim_wrapper=SGD, auto_scale_lr=dict(base_batch_size=8, enable=False), randomness={}))
    apply_scale_arguments(cfg, _args("--auto-scale-lr", "--ema", "--seed", "3", "--deterministic"))
    assert cfg.auto_scale_lr == dict(base_batch_size=8, enable=True)
    assert [hook["type"] for hook in cfg.custom_hooks] == ["EMAHook"]
    assert cfg.randomness == dict(seed=3, deterministic=True)
    apply_scale_arguments(cfg, _args("--ema"))  # a second EMA hook would average twice
    assert len(cfg.custom_hooks) == 1


def test_auto_scale_lr_without_base_batch_size_says_what_to_add() -> None:
    cfg = Config(dict(optim_wrapper=SGD))
    with pytest.raises(ValueError, match="base_batch_size"):
        apply_scale_arguments(cfg, _args("--auto-scale-lr"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU path")
def test_amp_on_cpu_autocasts_to_bfloat16_or_says_why_not(monkeypatch: pytest.MonkeyPatch) -> None:
    if cpu_supports_bfloat16():
        cfg = amp_optim_wrapper(SGD)
        assert (cfg["type"], cfg["dtype"]) == ("CPUAutocastOptimWrapper", "bfloat16")
    monkeypatch.setattr(amp_module, "cpu_supports_bfloat16", lambda: False)
    with pytest.raises(ValueError, match="native bfloat16"):
        amp_optim_wrapper(SGD)
    with pytest.raises(ValueError, match="needs CUDA"):
        amp_optim_wrapper(SGD, "float16")


def test_cpu_autocast_wrapper_runs_the_forward_in_bfloat16_and_keeps_float32_weights() -> None:
    model = nn.Conv2d(3, 4, 3)
    wrapper = CPUAutocastOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        out = model(torch.randn(2, 3, 8, 8))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().square().mean())
    assert model.weight.dtype == torch.float32 and model.weight.grad is None  # stepped and zeroed


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_amp_on_cuda_uses_mmengine_amp_wrapper() -> None:
    cfg = amp_optim_wrapper(SGD)
    assert (cfg["type"], cfg["dtype"], cfg["loss_scale"]) == ("AmpOptimWrapper", "float16", "dynamic")


@pytest.mark.parametrize("config", sorted(p.name for p in CONFIGS.glob("*.py")))
def test_every_config_states_the_batch_its_lr_is_for(config: str) -> None:
    cfg = Config.fromfile(str(CONFIGS / config))
    assert cfg.auto_scale_lr.base_batch_size > 0 and cfg.auto_scale_lr.enable is False


@pytest.mark.parametrize("config", ["deeplabv3_mnv2_voc.py", "deeplabv3lite_mnv2_voc.py"])
def test_real_segmentation_configs_use_sync_bn(config: str) -> None:
    assert Config.fromfile(str(CONFIGS / config)).sync_bn == "torch"


def test_channels_last_flag_sets_the_config_key() -> None:
    cfg = Config(dict(optim_wrapper=SGD, randomness={}))
    apply_scale_arguments(cfg, _args())
    assert not cfg.get("channels_last", False)
    apply_scale_arguments(cfg, _args("--channels-last"))
    assert cfg.channels_last is True


def test_channels_last_runner_stores_weights_nhwc_and_computes_the_same(tmp_path: Path) -> None:
    data_root = make_tiny_set(tmp_path / "data")
    outputs, layouts = {}, {}
    for channels_last in (False, True):
        cfg = tiny_cfg(data_root, tmp_path / str(channels_last), channels_last=channels_last)
        runner = Runner.from_cfg(cfg)
        runner._init_model_weights()  # what train() does first; same seed, same weights
        # Full 3x3 kernels: 1x1 and depthwise weights, (C, K, 1, 1) and (C, 1, 3, 3), fit both layouts
        convs = [p for p in runner.model.parameters() if p.dim() == 4 and p.shape[1] > 1 and p.shape[-1] > 1]
        layouts[channels_last] = {p.is_contiguous(memory_format=torch.channels_last) for p in convs}
        runner.model.eval()
        with torch.no_grad():
            image = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
            outputs[channels_last] = runner.model(image)
    assert layouts == {False: {False}, True: {True}}
    torch.testing.assert_close(outputs[True], outputs[False], rtol=1e-4, atol=1e-5)
