"""The Runner's checkpoints: written atomically, never with NaN weights, loaded strictly by default."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from mmengine.fileio.backends import LocalBackend

from visionkit.engine import Runner, checkpoint_io
from visionkit.engine.hooks import CheckpointHook, NonFiniteError
from visionkit.models import CheckpointMismatchError, CheckpointReadError, read_checkpoint

from .tiny_runs import make_tiny_set, tiny_cfg


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A Runner after one epoch of the tiny run: epoch_1.pth and last_checkpoint in its work dir."""
    root = tmp_path_factory.mktemp("ckpt_io")
    runner = Runner.from_cfg(
        tiny_cfg(make_tiny_set(root / "toy"), root / "work", **{"train_cfg.max_epochs": 1})
    )
    runner.train()
    return runner


def _pointer(runner) -> str:
    with open(f"{runner.work_dir}/last_checkpoint") as f:
        return f.read()


@pytest.mark.slow
def test_a_save_is_written_under_a_temporary_name_then_renamed(trained, monkeypatch):
    written = []
    put = LocalBackend.put

    def recording_put(self, obj, filepath):
        written.append(str(filepath))
        assert not Path(trained.work_dir, "epoch_9.pth").exists()
        put(self, obj, filepath)

    monkeypatch.setattr(LocalBackend, "put", recording_put)
    trained.save_checkpoint(trained.work_dir, "epoch_9.pth")
    [temporary] = written
    assert temporary.startswith(f"{trained.work_dir}/.epoch_9.pth.") and temporary.endswith(".tmp")
    assert read_checkpoint(f"{trained.work_dir}/epoch_9.pth")["meta"]["epoch"] == 2


def test_a_save_killed_midway_leaves_no_file_under_the_name(trained, monkeypatch):
    before = _pointer(trained)

    def dies_midway(self, obj, filepath):
        with open(filepath, "wb") as f:
            f.write(obj[: len(obj) // 3])
        raise KeyboardInterrupt  # what a kill looks like from Python

    monkeypatch.setattr(LocalBackend, "put", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        trained.save_checkpoint(trained.work_dir, "epoch_2.pth")
    names = {p.name for p in Path(trained.work_dir).iterdir()}
    assert "epoch_2.pth" not in names and not any(n.endswith(".tmp") for n in names)
    assert _pointer(trained) == before
    read_checkpoint(before)  # the last good checkpoint still loads


def test_the_last_checkpoint_pointer_is_replaced_atomically(trained, monkeypatch):
    [hook] = [h for h in trained.hooks if isinstance(h, CheckpointHook)]
    assert _pointer(trained) == f"{trained.work_dir}/epoch_1.pth" == hook.last_ckpt
    pointer = f"{trained.work_dir}/last_checkpoint"

    def killed(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        checkpoint_io.write_text_atomically(pointer, "half")
    assert _pointer(trained) == hook.last_ckpt
    assert not [n for n in os.listdir(trained.work_dir) if n.endswith(".tmp")]


def test_non_finite_weights_are_never_saved(trained):
    weight = trained.model.head.fc.weight
    saved = weight.detach().clone()
    try:
        with torch.no_grad():
            weight[0, 0] = float("nan")
        with pytest.raises(NonFiniteError, match=r"epoch_5.pth.*head\.fc\.weight"):
            trained.save_checkpoint(trained.work_dir, "epoch_5.pth")
    finally:
        with torch.no_grad():
            weight.copy_(saved)
    assert not (Path(trained.work_dir) / "epoch_5.pth").exists()


def _other_head_checkpoint(trained, path, num_classes=3):
    state = {k: v.clone() for k, v in trained.model.state_dict().items()}
    state["head.fc.weight"] = torch.zeros(num_classes, state["head.fc.weight"].shape[1])
    state["head.fc.bias"] = torch.zeros(num_classes)
    state["extra.weight"] = torch.ones(1)
    torch.save({"state_dict": state, "meta": {}}, path)
    return state


@pytest.mark.parametrize("in_config", [True, False], ids=["default_runtime", "key-absent"])
def test_load_from_is_strict_by_default(trained, tmp_path, in_config):
    path = tmp_path / "three_classes.pth"
    _other_head_checkpoint(trained, path)
    cfg = tiny_cfg(tmp_path, tmp_path / "work", load_from=str(path))
    assert cfg.pop("load_from_strict") is True
    if in_config:
        cfg.load_from_strict = True
    runner = Runner.from_cfg(cfg)
    with pytest.raises(
        CheckpointMismatchError, match=r"(?s)three_classes\.pth.*head\.fc\.weight.*load_from_strict=False"
    ):
        runner.load_or_resume()


def test_partial_load_from_loads_what_fits_and_lists_the_rest(trained, tmp_path, capsys):
    path = tmp_path / "three_classes.pth"
    state = _other_head_checkpoint(trained, path)
    del state["backbone.stem.bn.bias"]  # and one key the checkpoint lacks
    torch.save({"state_dict": state, "meta": {}}, path)
    runner = Runner.from_cfg(
        tiny_cfg(tmp_path, tmp_path / "work", load_from=str(path), load_from_strict=False)
    )
    fc_before = runner.model.head.fc.weight.detach().clone()
    bias_before = runner.model.backbone.stem.bn.bias.detach().clone()
    runner.load_or_resume()
    model = runner.model.state_dict()
    assert torch.equal(model["backbone.stem.conv.weight"], state["backbone.stem.conv.weight"])
    assert torch.equal(model["head.fc.weight"], fc_before)  # shape mismatch: kept its initialisation
    log = capsys.readouterr().out
    assert "shape mismatch (kept their initialisation) (2): head.fc.weight (3, 1280) vs (4, 1280)" in log
    assert "not in the model (ignored) (1): extra.weight" in log
    assert "missing in the checkpoint (kept their initialisation) (1): backbone.stem.bn.bias" in log
    assert torch.equal(model["backbone.stem.bn.bias"], bias_before)


def _with(checkpoint: dict, key: str, value) -> dict:
    """A copy of ``checkpoint`` with ``key`` (``'a/b'`` for nested) set to ``value``."""
    changed = {k: dict(v) if isinstance(v, dict) else v for k, v in checkpoint.items()}
    *parents, last = key.split("/")
    target = changed
    for parent in parents:
        target = target[parent]
    target[last] = value
    return changed


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("meta/epoch", "1", r"its 'meta' is not in the form visionkit's Runner saves"),
        ("meta/seed", [1], r"its 'meta' is not in the form"),
        ("message_hub/runtime_info", [], r"its 'message_hub' is not in the form"),
        (
            "param_schedulers",
            [{"optimizer": {"param_groups": []}}],
            r"its 'param_schedulers' is not in the form",
        ),
        ("optimizer/param_groups", [], r"cannot be resumed with this config \(ValueError: loaded state dict"),
        ("state_dict", {3: torch.zeros(1)}, r"Expected a state dict \(names -> tensors\), got 3 -> Tensor"),
    ],
    ids=["epoch-text", "seed-list", "runtime-info-list", "scheduler-optimizer", "param-groups", "int-key"],
)
def test_a_malformed_runner_checkpoint_is_refused_by_name(trained, tmp_path, key, value, message):
    """Plain data in the wrong places: mmengine resumed with a text epoch (and failed mid-training), set a
    scheduler's ``optimizer`` from the file, or failed with a traceback; now the error names the file."""
    original = torch.load(f"{trained.work_dir}/epoch_1.pth", weights_only=False)
    path = tmp_path / "changed.pth"
    torch.save(_with(original, key, value), path)
    with pytest.raises((CheckpointReadError, CheckpointMismatchError), match=rf"(?s){message}") as error:
        trained.resume(str(path))
    assert "changed.pth" in str(error.value) or key == "state_dict"
