"""The checkpoint hook never leaves a broken last_checkpoint: a full disk, mid-epoch resume points,
preemption."""

from __future__ import annotations

import errno
import os
import signal
from collections import deque
from pathlib import Path

import pytest
from mmengine.fileio.backends import LocalBackend

from visionkit.engine import Runner
from visionkit.engine.checkpoint_io import CheckpointWriteError
from visionkit.engine.hooks import CheckpointHook
from visionkit.engine.preemption import TrainingPreempted
from visionkit.models import read_checkpoint

from .tiny_runs import make_tiny_set, tiny_cfg


@pytest.fixture(scope="module")
def one_epoch(tmp_path_factory):
    """A Runner after one epoch of the tiny run, keeping one checkpoint: epoch_1.pth."""
    root = tmp_path_factory.mktemp("hook")
    options = {
        "train_cfg.max_epochs": 1,
        "default_hooks.checkpoint.max_keep_ckpts": 1,
        "default_hooks.checkpoint.save_best": None,
    }
    runner = Runner.from_cfg(tiny_cfg(make_tiny_set(root / "toy"), root / "work", **options))
    runner.train()
    return runner, Path(runner.work_dir, "epoch_1.pth").read_bytes()


@pytest.fixture
def trained(one_epoch):
    """``one_epoch``'s runner as it was after training: only epoch_1.pth, named by last_checkpoint."""
    runner, epoch_1 = one_epoch
    work = Path(runner.work_dir)
    for path in work.glob("*.pth"):
        path.unlink()
    (work / "epoch_1.pth").write_bytes(epoch_1)
    (work / "last_checkpoint").write_text(str(work / "epoch_1.pth"))
    hook = _hook(runner)
    hook.keep_ckpt_ids = deque([1], 1)
    hook.last_ckpt = str(work / "epoch_1.pth")
    runner.message_hub.update_info("keep_ckpt_ids", [1])
    runner.message_hub.update_info("resume_ckpt", None)
    return runner


def _hook(runner) -> CheckpointHook:
    [hook] = [h for h in runner.hooks if isinstance(h, CheckpointHook)]
    return hook


def _pointer(runner) -> str:
    return Path(runner.work_dir, "last_checkpoint").read_text()


def _disk_full(monkeypatch) -> None:
    def half_then_enospc(self, obj, filepath):
        with open(filepath, "wb") as f:
            f.write(obj[: len(obj) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filepath))

    monkeypatch.setattr(LocalBackend, "put", half_then_enospc)


def test_a_full_disk_keeps_the_previous_checkpoint_and_pointer_and_names_the_path(trained, monkeypatch):
    """With max_keep_ckpts=1, mmengine deleted epoch_1.pth before writing epoch_2.pth: a full disk then
    left last_checkpoint naming a deleted file."""
    before = _pointer(trained)
    assert before.endswith("epoch_1.pth")
    _disk_full(monkeypatch)
    with pytest.raises(
        CheckpointWriteError, match=r"Could not write '.*epoch_2\.pth': No space left on device"
    ):
        _hook(trained)._save_checkpoint(trained)  # what the hook does after epoch 2
    assert _pointer(trained) == before
    assert read_checkpoint(before)["meta"]["epoch"] == 1
    assert sorted(p.name for p in Path(trained.work_dir).glob("*.pth")) == ["epoch_1.pth"]
    assert not [n for n in os.listdir(trained.work_dir) if n.endswith(".tmp")]


def test_a_new_checkpoint_is_named_before_the_old_one_goes(trained, monkeypatch):
    events = []
    monkeypatch.setattr(LocalBackend, "remove", lambda self, path: events.append(("remove", Path(path).name)))
    replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", Path(b).name)), replace(a, b)))
    _hook(trained)._save_checkpoint(trained)
    assert events == [("replace", "epoch_2.pth"), ("replace", "last_checkpoint"), ("remove", "epoch_1.pth")]


def test_mid_epoch_resume_points_replace_each_other(trained):
    hook = _hook(trained)
    hook._save_resume_checkpoint(trained, step=7)
    hook._save_resume_checkpoint(trained, step=9)
    names = sorted(p.name for p in Path(trained.work_dir).glob("*.pth"))
    assert names == ["epoch_1.pth", "iter_9.pth"] and _pointer(trained).endswith("iter_9.pth")
    checkpoint = read_checkpoint(_pointer(trained))
    assert (checkpoint["meta"]["epoch"], checkpoint["meta"]["iter"]) == (1, 9)
    hook._save_checkpoint(trained)  # an epoch checkpoint supersedes the resume point
    assert not Path(trained.work_dir, "iter_9.pth").exists() and _pointer(trained).endswith("epoch_2.pth")


def test_a_preemption_signal_writes_a_resume_point_then_stops(trained):
    hook = _hook(trained)
    trained.preemption.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # survived: recorded, not acted upon yet
        os.kill(os.getpid(), signal.SIGUSR1)  # a second signal changes nothing
        with pytest.raises(TrainingPreempted) as stopped:
            hook.after_train_iter(trained, batch_idx=0)
    finally:
        trained.preemption.uninstall()
    assert stopped.value.exit_code == 128 + signal.SIGTERM == 143
    assert stopped.value.checkpoint == _pointer(trained) == f"{trained.work_dir}/iter_{trained.iter + 1}.pth"
    assert "Stopped by SIGTERM after writing" in str(stopped.value)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers put back


def test_iter_interval_is_refused_for_iteration_based_checkpoints():
    with pytest.raises(ValueError, match="iter_interval is for epoch-based checkpoints"):
        CheckpointHook(interval=100, by_epoch=False, iter_interval=10)


def test_the_resume_state_is_in_every_checkpoint(trained):
    state = read_checkpoint(_pointer(trained))["meta"]["resume_state"]
    assert state["train_loop"] == {
        "data": {"epoch": 0, "batch": 2, "processes": 1, "batch_size": 4},  # 8 images / 4 per batch
        "val_pending": True,  # the epoch's validation had not run when its checkpoint was written
    }
    assert [sorted(s) for s in state["random_states"]] == [["cuda", "numpy", "python", "torch"]]
