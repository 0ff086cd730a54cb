"""Every way visionkit loads a checkpoint refuses a crafted one, names the file, and runs nothing of it.

The payloads (tests/engine/hostile_checkpoints.py) touch a marker file if they run: the classic
``__reduce__`` and the ``getattr`` chain through ``ConfigDict.__init__.__globals__`` (which ran on
924e601 through every path below), and a TorchScript archive (which ``torch.load`` hands to
``torch.jit.load``; it ran through every path until 8538735); resume also meets a saved
``meta['config']`` that is Python.
"""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from visionkit.apis import init_model
from visionkit.models import ClassifierHead, MobileNetV2, MultiTaskModel, UnsafeCheckpointError

from ..tools.run_tool import load_tool, run_tool
from .hostile_checkpoints import (
    config_string_payload,
    getattr_chain_payload,
    path_naming_payload,
    reduce_payload,
    torchscript_payload,
)
from .tiny_runs import CONFIG, cli_options, make_tiny_set, tiny_cfg

PAYLOADS = {
    "reduce": reduce_payload,
    "getattr-chain": getattr_chain_payload,
    "torchscript": torchscript_payload,
}
REFUSED = {
    "reduce": "refused 'posix.system'",
    "getattr-chain": "refused getattr(ConfigDict, '__init__')",
    "torchscript": "is a TorchScript archive",
}


@pytest.fixture(params=sorted(PAYLOADS))
def hostile(request, tmp_path):
    """(checkpoint path, marker path, expected refusal text)."""
    marker = tmp_path / "payload_ran"
    path = PAYLOADS[request.param](tmp_path / f"hostile_{request.param}.pth", marker)
    yield path, marker, REFUSED[request.param]
    assert not marker.exists(), "the payload ran"


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return make_tiny_set(tmp_path_factory.mktemp("toy"))


def _refused(error_text: str, path, refused: str) -> None:
    assert str(path) in error_text and refused in error_text, error_text


def test_init_model(hostile):
    path, _, refused = hostile
    with pytest.raises(UnsafeCheckpointError) as error:
        init_model(CONFIG, str(path), cfg_options={"model.backbone.widen_factor": 0.35})
    _refused(str(error.value), path, refused)


def test_backbone_pretrained_init_cfg(hostile):
    path, _, refused = hostile
    backbone = MobileNetV2(widen_factor=0.35, init_cfg=dict(type="Pretrained", checkpoint=str(path)))
    with pytest.raises(UnsafeCheckpointError) as error:
        backbone.init_weights()
    _refused(str(error.value), path, refused)


def test_head_pretrained_init_cfg_through_mmengine(hostile, monkeypatch):
    """Heads, necks and whole models load ``init_cfg=Pretrained`` through mmengine's CheckpointLoader,
    which called ``torch.load`` without ``weights_only``: an environment that turns torch's default off
    ran every payload. It now reads through visionkit whatever torch's default is."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    path, _, refused = hostile
    head = ClassifierHead((8,), 2, init_cfg=dict(type="Pretrained", checkpoint=str(path)))
    with pytest.raises(UnsafeCheckpointError) as error:
        head.init_weights()
    _refused(str(error.value), path, refused)


def test_multi_task_init_checkpoint(hostile):
    path, _, refused = hostile
    classification = dict(type="ImageClassifier", head=dict(type="ClassifierHead", num_classes=4))
    model = MultiTaskModel(
        backbone=dict(type="MobileNetV2", widen_factor=0.35),
        tasks=dict(classification=dict(classification, init_checkpoint=str(path))),
    )
    with pytest.raises(UnsafeCheckpointError) as error:
        model.init_weights()
    _refused(str(error.value), path, refused)


@pytest.mark.parametrize("tool", ["test", "infer", "export"])
def test_tools_exit_with_the_refusal(hostile, tool, tmp_path):
    path, _, refused = hostile
    image = tmp_path / "photo.jpg"
    Image.new("RGB", (32, 32)).save(image)
    extra = {
        "test": ["--work-dir", str(tmp_path / "work")],
        "infer": [str(image), "--out-dir", str(tmp_path / "out")],
        "export": ["--out", str(tmp_path / "model.onnx")],
    }[tool]
    with pytest.raises(SystemExit) as exit_info:
        load_tool(tool).main([CONFIG, str(path), *extra, *cli_options()])
    _refused(str(exit_info.value.code), path, refused)


def _train_argv(data_root, tmp_path, *args: str) -> list[str]:
    """tools/train.py's arguments for the tiny config on the generated data, then ``args``."""
    return [CONFIG, "--work-dir", str(tmp_path / "work"), "--data-root", str(data_root), *args]


@pytest.mark.slow
@pytest.mark.parametrize("how", ["resume", "load_from"])
def test_train_resume_and_load_from(hostile, how, data_root, tmp_path):
    path, _, refused = hostile
    load = ["--resume", str(path)] if how == "resume" else []
    options = {} if how == "resume" else {"load_from": str(path)}
    argv = _train_argv(data_root, tmp_path, *load)
    with pytest.raises(SystemExit) as exit_info:
        load_tool("train").main(argv + cli_options(**options))
    _refused(str(exit_info.value.code), path, refused)


@pytest.mark.slow
def test_resume_never_executes_the_saved_config(data_root, tmp_path):
    """A plain-data checkpoint whose meta['config'] is Python: resume goes on, the Python never runs."""
    marker = tmp_path / "config_ran"
    cfg = tiny_cfg(data_root, tmp_path / "work")
    state_dict = init_model(cfg).state_dict()
    path = config_string_payload(tmp_path / "epoch_1.pth", marker, state_dict, epoch=1)
    argv = _train_argv(data_root, tmp_path, "--resume", str(path))
    load_tool("train").main(argv + cli_options())
    assert not marker.exists()
    assert (tmp_path / "work" / "epoch_2.pth").is_file()  # resumed at epoch 1, trained epoch 2


@pytest.mark.slow
def test_resume_deletes_nothing_the_checkpoint_names(data_root, tmp_path):
    """A plain-data checkpoint whose message hub names a folder as the previous best checkpoint: with
    ``save_best='auto'`` (every config inherits it) mmengine's hook ``rmtree``-d it after the first
    validation and the run exited 0. The folder survives; the run still trains and saves its best."""
    victim = tmp_path / "precious"
    victim.mkdir()
    (victim / "data.txt").write_text("keep me")
    cfg = tiny_cfg(data_root, tmp_path / "work")
    path = path_naming_payload(tmp_path / "epoch_1.pth", victim, init_model(cfg).state_dict())
    options = cli_options(**{"default_hooks.checkpoint.save_best": "auto"})
    load_tool("train").main(_train_argv(data_root, tmp_path, "--resume", str(path)) + options)
    assert (victim / "data.txt").read_text() == "keep me"
    assert [p.name for p in (tmp_path / "work").glob("best_*.pth")] == ["best_accuracy_top1_epoch_2.pth"]


def test_resuming_from_a_bare_state_dict_names_the_file(data_root, tmp_path):
    path = tmp_path / "weights.pth"
    torch.save(init_model(tiny_cfg(data_root, tmp_path / "work")).state_dict(), path)
    argv = _train_argv(data_root, tmp_path, "--resume", str(path))
    with pytest.raises(
        SystemExit, match=r"weights\.pth' cannot be resumed: it has no 'meta'.*load_from=PATH"
    ):
        load_tool("train").main(argv + cli_options())


_POSITION = {"epoch": 0, "batch": 0, "processes": 1, "batch_size": 1}


@pytest.mark.parametrize(
    "resume_state",
    [
        5,
        {"train_loop": {"data": "x", "val_pending": False}},
        {"train_loop": {"data": {**_POSITION, "epoch": "9" * 5000}, "val_pending": False}},
        {"train_loop": {"data": _POSITION, "val_pending": False}, "random_states": [{"torch": 1.0}]},
    ],
    ids=["not-a-dict", "position-a-string", "5000-digit-epoch", "random-states"],
)
def test_a_malformed_resume_state_names_the_file(data_root, tmp_path, resume_state):
    """The data position and random states of ``meta['resume_state']`` are the file's: on f328df2 these
    ended --resume in an AttributeError, TypeError or ValueError traceback (the random states only at
    the first training step), none naming the file."""
    state_dict = init_model(tiny_cfg(data_root, tmp_path / "work")).state_dict()
    path = tmp_path / "epoch_1.pth"
    hub = {"log_scalars": {}, "runtime_info": {}, "resumed_keys": {}}
    meta = {"epoch": 1, "iter": 1, "resume_state": resume_state}
    torch.save({"meta": meta, "state_dict": state_dict, "message_hub": hub}, path)
    argv = _train_argv(data_root, tmp_path, "--resume", str(path))
    with pytest.raises(SystemExit, match=r"epoch_1\.pth' cannot be resumed: its resume state is malformed"):
        load_tool("train").main(argv + cli_options())


@pytest.mark.slow
def test_the_cli_prints_the_refusal_without_a_traceback(tmp_path):
    marker = tmp_path / "payload_ran"
    path = getattr_chain_payload(tmp_path / "hostile.pth", marker)
    result = run_tool(
        "test.py", CONFIG, str(path), "--work-dir", str(tmp_path / "work"), *cli_options(), check=False
    )
    assert result.returncode == 1
    _refused(result.stderr, path, REFUSED["getattr-chain"])
    assert "Traceback" not in result.stderr and not marker.exists()
