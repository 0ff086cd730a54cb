"""Config switches the tools apply: TensorBoard as one setting, plot folders for the test metrics."""

import importlib.util

import pytest
from mmengine.config import Config

from visionkit.engine import load_config
from visionkit.evaluation import set_plot_dir


def test_tensorboard_switch_adds_the_backend_once(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: object() if name == "tensorboard" else real(name)
    )
    cfg = load_config("configs/mobilenet_v2_toy.py", {"tensorboard": True})
    types = [b["type"] for b in cfg.visualizer.vis_backends]
    assert types == ["LocalVisBackend", "TensorboardVisBackend"]
    assert [b["type"] for b in load_config("configs/mobilenet_v2_toy.py").visualizer.vis_backends] == [
        "LocalVisBackend"
    ]


def test_tensorboard_switch_without_tensorboard_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "tensorboard" else real(name)
    )
    with pytest.raises(ModuleNotFoundError, match=r"pip install 'visionkit\[tensorboard\]'"):
        load_config("configs/mobilenet_v2_toy.py", {"tensorboard": True})


def test_plot_dir_reaches_each_plotting_metric_and_each_task():
    cfg = Config(
        dict(
            test_evaluator=[
                dict(type="TaskMetric", task="detection", metric=dict(type="CocoMetric")),
                dict(type="TaskMetric", task="segmentation", metric=dict(type="IoUMetric")),
            ]
        )
    )
    assert set_plot_dir(cfg, "plots") == ["plots/detection", "plots/segmentation"]
    assert cfg.test_evaluator[1]["metric"]["plot_dir"] == "plots/segmentation"
    with pytest.raises(ValueError, match=r"none of the test metrics \(Accuracy\) plots"):
        set_plot_dir(Config(dict(test_evaluator=dict(type="Accuracy"))), "plots")
