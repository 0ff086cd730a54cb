"""What a resumed checkpoint's message hub may make the CheckpointHook delete: only this run's own files.

mmengine's hook takes ``best_ckpt`` (removed, or ``rmtree``-d, when a better score comes) and
``keep_ckpt_ids`` (their ``epoch_N.pth`` removed) from the checkpoint it resumes, so a checkpoint of plain
strings and numbers deleted any path it named. These tests run the real hook on a stand-in runner.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from mmengine.logging import MessageHub, MMLogger

from visionkit.engine.hooks import CheckpointHook


class ResumedRunner:
    """What the hook reads of a Runner resumed at ``epoch`` whose message hub holds ``info``."""

    def __init__(self, work_dir: Path, epoch: int, info: dict) -> None:
        self.work_dir, self.epoch, self.iter = str(work_dir), epoch, 10 * epoch
        self.message_hub = MessageHub.get_instance(f"resumed_{uuid.uuid4().hex}")
        for key, value in info.items():
            self.message_hub.update_info(key, value)
        self.logger = MMLogger.get_current_instance()

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        Path(out_dir, filename).write_bytes(b"checkpoint")


def _victims(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "data.txt").write_text("keep me")
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    return folder, work_dir


def test_a_best_checkpoint_path_elsewhere_is_not_deleted(tmp_path):
    folder, work_dir = _victims(tmp_path)
    inside = work_dir / "data"  # in the run's folder, but not named as a best checkpoint
    inside.mkdir()
    for victim in (folder, inside, work_dir / "best_acc_epoch_1.pth" / ".." / ".." / "precious"):
        runner = ResumedRunner(work_dir, 1, {"best_ckpt": str(victim), "best_score": float("-inf")})
        hook = CheckpointHook(interval=1, save_best="auto")
        hook.before_train(runner)
        hook.after_val_epoch(runner, {"accuracy/top1": 50.0})
        assert (folder / "data.txt").read_text() == "keep me" and inside.is_dir()
        assert runner.message_hub.get_info("best_ckpt") == str(work_dir / "best_accuracy_top1_epoch_1.pth")


def test_keep_ckpt_ids_beyond_the_resumed_step_delete_nothing(tmp_path):
    _, work_dir = _victims(tmp_path)
    for step in range(1, 6):
        (work_dir / f"epoch_{step}.pth").write_bytes(b"checkpoint")
    for ids in ([1, 2, 3, 4, 5, 99], [5, 4, 3, 2, 1], ["../precious/data.txt"], [True, 2, 3]):
        runner = ResumedRunner(work_dir, 5, {"keep_ckpt_ids": ids})
        CheckpointHook(interval=1, max_keep_ckpts=2).before_train(runner)
        assert sorted(p.name for p in work_dir.iterdir()) == [f"epoch_{s}.pth" for s in range(1, 6)]


def test_the_hooks_own_records_still_rotate_and_replace(tmp_path):
    """What the hook itself recorded keeps working: older checkpoints beyond max_keep_ckpts are removed
    on resume, and the previous best checkpoint of this run when a better one comes."""
    _, work_dir = _victims(tmp_path)
    for step in range(1, 6):
        (work_dir / f"epoch_{step}.pth").write_bytes(b"checkpoint")
    best = work_dir / "best_accuracy_top1_epoch_2.pth"
    best.write_bytes(b"checkpoint")
    info = {"keep_ckpt_ids": [1, 2, 3, 4, 5], "best_ckpt": str(best), "best_score": 40.0}
    runner = ResumedRunner(work_dir, 5, info)
    hook = CheckpointHook(interval=1, max_keep_ckpts=2, save_best="auto")
    hook.before_train(runner)
    hook.after_val_epoch(runner, {"accuracy/top1": 50.0})
    assert sorted(p.name for p in work_dir.iterdir()) == [
        "best_accuracy_top1_epoch_5.pth",
        "epoch_4.pth",
        "epoch_5.pth",
    ]


def test_a_best_score_that_is_not_a_number_is_dropped(tmp_path):
    _, work_dir = _victims(tmp_path)
    runner = ResumedRunner(work_dir, 1, {"best_score": "high"})
    hook = CheckpointHook(interval=1, save_best="auto")
    hook.before_train(runner)
    hook.after_val_epoch(runner, {"accuracy/top1": 50.0})  # mmengine compared 50.0 > 'high': TypeError
    assert runner.message_hub.get_info("best_score") == 50.0


def test_a_resume_point_elsewhere_is_not_deleted_by_the_next_save(tmp_path):
    """The mid-epoch resume point (``resume_ckpt``) is deleted once a newer checkpoint is written: only
    this run's own ``iter_N.pth`` may be."""
    folder, work_dir = _victims(tmp_path)
    (work_dir / "notes.pth").write_bytes(b"keep me too")
    for victim in (folder / "data.txt", work_dir / "notes.pth", work_dir / "iter_3.pth" / ".." / "notes.pth"):
        runner = ResumedRunner(work_dir, 1, {"resume_ckpt": str(victim)})
        hook = CheckpointHook(interval=1)
        hook.before_train(runner)
        hook._save_checkpoint_with_step(runner, 2, dict(epoch=2, iter=20))
        assert (folder / "data.txt").read_text() == "keep me" and (work_dir / "notes.pth").exists()
    own = work_dir / "iter_15.pth"
    own.write_bytes(b"checkpoint")
    runner = ResumedRunner(work_dir, 1, {"resume_ckpt": str(own)})
    hook = CheckpointHook(interval=1)
    hook.before_train(runner)
    hook._save_checkpoint_with_step(runner, 2, dict(epoch=2, iter=20))
    assert not own.exists() and (work_dir / "epoch_2.pth").exists()  # superseded, as the hook's own
