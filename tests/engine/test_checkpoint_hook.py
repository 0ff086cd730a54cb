"""The checkpoint hook never leaves a broken last_checkpoint: a full disk, mid-epoch resume points,
preemption. Quick tests drive the hook with a stand-in runner whose saves go through visionkit's atomic
writer; one slow test checks what a real run puts in its checkpoints."""

from __future__ import annotations

import errno
import os
import signal
import uuid
from pathlib import Path

import pytest
import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.logging import MessageHub, MMLogger
from torch import nn

from visionkit.engine import Runner
from visionkit.engine.checkpoint_io import CheckpointWriteError, save_checkpoint_atomically
from visionkit.engine.hooks import CheckpointHook
from visionkit.engine.preemption import PreemptionSignals, TrainingPreempted
from visionkit.models import read_checkpoint

from .tiny_runs import make_tiny_set, tiny_cfg


class StandInRunner:
    """What the hook uses of a runner; ``save_checkpoint`` writes ``{'meta': meta}`` atomically, through
    mmengine's file backend as mmengine's save does."""

    def __init__(self, work_dir: Path) -> None:
        self.work_dir = str(work_dir)
        name = f"hook-{uuid.uuid4().hex[:8]}"
        self.message_hub = MessageHub.get_instance(name)
        self.logger = MMLogger.get_instance(name, log_level="WARNING")
        self.model = nn.Linear(2, 2)
        self.epoch, self.iter = 0, 0
        self.preemption: PreemptionSignals | None = None

    def save_checkpoint(self, out_dir: str, filename: str, *args, meta: dict | None = None, **kwargs) -> None:
        save_checkpoint_atomically(self._write, self, out_dir, filename, meta=meta)

    def _write(self, out_dir: str, filename: str, meta: dict | None = None) -> None:
        buffer = torch.serialization.io.BytesIO()
        torch.save({"meta": meta}, buffer)
        LocalBackend().put(buffer.getvalue(), os.path.join(out_dir, filename))


def _pointer(runner) -> str:
    return Path(runner.work_dir, "last_checkpoint").read_text()


def _names(runner) -> list[str]:
    return sorted(p.name for p in Path(runner.work_dir).glob("*.pth"))


@pytest.fixture
def after_epoch_1(tmp_path) -> tuple[CheckpointHook, StandInRunner]:
    """A hook keeping one checkpoint, after it saved epoch_1.pth (5 iterations)."""
    runner = StandInRunner(tmp_path)
    hook = CheckpointHook(interval=1, max_keep_ckpts=1, iter_interval=2)
    hook.before_train(runner)
    runner.iter = 5
    hook._save_checkpoint(runner)  # what after_train_epoch does
    runner.epoch = 1
    assert _names(runner) == ["epoch_1.pth"] and _pointer(runner).endswith("epoch_1.pth")
    return hook, runner


def _disk_full(monkeypatch) -> None:
    def half_then_enospc(self, obj, filepath):
        with open(filepath, "wb") as f:
            f.write(obj[: len(obj) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filepath))

    monkeypatch.setattr(LocalBackend, "put", half_then_enospc)


def test_a_full_disk_keeps_the_previous_checkpoint_and_pointer_and_names_the_path(after_epoch_1, monkeypatch):
    """With max_keep_ckpts=1, mmengine deleted epoch_1.pth before writing epoch_2.pth: a full disk then
    left last_checkpoint naming a deleted file."""
    hook, runner = after_epoch_1
    before = _pointer(runner)
    _disk_full(monkeypatch)
    with pytest.raises(
        CheckpointWriteError, match=r"Could not write '.*epoch_2\.pth': No space left on device"
    ):
        hook._save_checkpoint(runner)
    assert _pointer(runner) == before and _names(runner) == ["epoch_1.pth"]
    assert read_checkpoint(before)["meta"]["epoch"] == 1
    assert not [n for n in os.listdir(runner.work_dir) if n.endswith(".tmp")]


def test_a_new_checkpoint_is_named_before_the_old_one_goes(after_epoch_1, monkeypatch):
    hook, runner = after_epoch_1
    events = []
    replace, remove = os.replace, LocalBackend.remove
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(("replace", Path(b).name)), replace(a, b)))
    monkeypatch.setattr(
        LocalBackend, "remove", lambda self, p: (events.append(("remove", Path(p).name)), remove(self, p))
    )
    hook._save_checkpoint(runner)
    assert events == [("replace", "epoch_2.pth"), ("replace", "last_checkpoint"), ("remove", "epoch_1.pth")]


def test_mid_epoch_resume_points_replace_each_other_until_an_epoch_checkpoint(after_epoch_1):
    hook, runner = after_epoch_1
    for runner.iter in range(5, 10):  # iterations 6..10 of epoch 2
        hook.after_train_iter(runner, batch_idx=runner.iter - 5)
        if runner.iter + 1 == 8:
            assert _names(runner) == ["epoch_1.pth", "iter_8.pth"]
    assert _names(runner) == ["epoch_1.pth", "iter_10.pth"] and _pointer(runner).endswith("iter_10.pth")
    meta = read_checkpoint(_pointer(runner))["meta"]
    assert (meta["epoch"], meta["iter"]) == (1, 10)
    hook._save_checkpoint(runner)  # the epoch's checkpoint supersedes the resume point
    assert _names(runner) == ["epoch_2.pth"] and _pointer(runner).endswith("epoch_2.pth")


def test_a_preemption_signal_writes_a_resume_point_then_stops(after_epoch_1):
    hook, runner = after_epoch_1
    runner.iter = 6
    runner.preemption = PreemptionSignals()
    runner.preemption.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)  # survived: recorded, acted on at the end of the step
        os.kill(os.getpid(), signal.SIGUSR1)  # a second signal changes nothing
        with pytest.raises(TrainingPreempted) as stopped:
            hook.after_train_iter(runner, batch_idx=1)
    finally:
        runner.preemption.uninstall()
    assert stopped.value.exit_code == 128 + signal.SIGTERM == 143
    assert stopped.value.checkpoint == _pointer(runner) == f"{runner.work_dir}/iter_7.pth"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers put back


def test_iter_interval_is_refused_for_iteration_based_checkpoints():
    with pytest.raises(ValueError, match="iter_interval is for epoch-based checkpoints"):
        CheckpointHook(interval=100, by_epoch=False, iter_interval=10)


@pytest.mark.slow
def test_a_real_run_writes_its_resume_state_and_survives_a_full_disk(tmp_path, monkeypatch):
    # no best checkpoint: its save re-writes the last checkpoint after the validation (val_pending False)
    options = {
        "train_cfg.max_epochs": 1,
        "default_hooks.checkpoint.max_keep_ckpts": 1,
        "default_hooks.checkpoint.save_best": None,
    }
    runner = Runner.from_cfg(tiny_cfg(make_tiny_set(tmp_path / "toy"), tmp_path / "work", **options))
    runner.train()
    pointer = _pointer(runner)
    state = read_checkpoint(pointer)["meta"]["resume_state"]
    assert state["train_loop"] == {
        "data": {"epoch": 0, "batch": 2, "processes": 1, "batch_size": 4},  # 8 images / 4 per batch
        "val_pending": True,  # the epoch's validation had not run when its checkpoint was written
    }
    assert [sorted(s) for s in state["random_states"]] == [["cuda", "numpy", "python", "torch"]]
    _disk_full(monkeypatch)
    [hook] = [h for h in runner.hooks if isinstance(h, CheckpointHook)]
    with pytest.raises(CheckpointWriteError, match="No space left on device"):
        hook._save_checkpoint(runner)  # through mmengine's Runner.save_checkpoint
    assert _pointer(runner) == pointer and read_checkpoint(pointer)["meta"]["epoch"] == 1
