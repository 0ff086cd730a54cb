"""A diverging run (the toy classifier at lr 1e10) stops with a message, and never saves NaN weights."""

from __future__ import annotations

import math
import os

import pytest
import torch

from visionkit.engine import Runner
from visionkit.engine.hooks import NonFiniteError
from visionkit.engine.hooks.non_finite_check_hook import non_finite_names

from ..tools.run_tool import load_tool
from .tiny_runs import CONFIG, cli_options, make_tiny_set, tiny_cfg

DIVERGE = {"optim_wrapper.optimizer.lr": 1e10, "train_cfg.max_epochs": 5, "train_cfg.val_interval": 100}


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return make_tiny_set(tmp_path_factory.mktemp("toy"))


def test_non_finite_names():
    named = [
        ("a", 1.0),
        ("b", math.nan),
        ("c", torch.tensor([1.0, math.inf])),
        ("d", torch.tensor([3])),
        ("e", 2),
    ]
    assert non_finite_names(named) == ["b", "c"]


@pytest.mark.slow
def test_nan_loss_stops_training_naming_epoch_iteration_and_terms(data_root, tmp_path):
    argv = [CONFIG, "--work-dir", str(tmp_path), "--data-root", str(data_root)]
    options = cli_options(**DIVERGE, **{"default_hooks.checkpoint.interval": 100})
    with pytest.raises(SystemExit) as exit_info:
        load_tool("train").main(argv + options)
    message = str(exit_info.value.code)
    assert message.startswith("error: Training diverged at epoch 2, iteration 4 (batch 2 of the epoch)"), (
        message
    )
    assert "non-finite loss terms loss=nan, loss_cls=nan" in message
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".pth")]


@pytest.mark.slow
def test_non_finite_running_statistics_are_not_saved(data_root, tmp_path):
    """At lr 1e10 the loss is still finite after epoch 1, but BatchNorm's running_var is inf: no save."""
    runner = Runner.from_cfg(tiny_cfg(data_root, tmp_path, **DIVERGE))
    with pytest.raises(NonFiniteError, match=r"epoch 1 .*not saving epoch_1\.pth.*bn\.running_var"):
        runner.train()
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".pth") or n == "last_checkpoint"]


@pytest.mark.slow
def test_skip_mode_drops_bad_steps_logs_each_and_gives_up_after_max_skips(data_root, tmp_path, capsys):
    hook = {"default_hooks.non_finite": dict(type="NonFiniteCheckHook", on_non_finite="skip", max_skips=2)}
    options = {**DIVERGE, "default_hooks.checkpoint.interval": 100, **hook}
    runner = Runner.from_cfg(tiny_cfg(data_root, tmp_path, **options))
    before = {}

    def remember(module, args):
        before.setdefault(runner.iter, module.weight.detach().clone())

    runner.model.head.fc.register_forward_pre_hook(remember)
    with pytest.raises(
        NonFiniteError, match="3 optimizer steps in a row skipped, the last at epoch 3, iteration 6"
    ):
        runner.train()
    log = capsys.readouterr().out
    for iteration, skipped in ((4, 1), (5, 2), (6, 3)):
        assert f"iteration {iteration}: " in log and f"({skipped} skipped so far)" in log
    assert torch.equal(before[3], before[4]) and torch.equal(before[4], before[5])  # no update when skipped
    assert torch.isfinite(runner.model.head.fc.weight).all()
