"""The Runner stops its loaders' persistent data loader workers when train, val or test returns."""

from multiprocessing import active_children

import pytest

from visionkit.engine.runner import Runner

from .tiny_runs import make_tiny_set, tiny_cfg

PERSISTENT = {
    f"{split}_dataloader.{key}": value
    for split in ("train", "val", "test")
    for key, value in (("num_workers", 1), ("persistent_workers", True))
}


@pytest.mark.slow
def test_train_val_and_test_leave_no_worker_running_and_can_run_again(tmp_path):
    cfg = tiny_cfg(
        make_tiny_set(tmp_path / "toy"), tmp_path / "work", **{"train_cfg.max_epochs": 1}, **PERSISTENT
    )
    runner = Runner.from_cfg(cfg)
    before = set(active_children())
    runner.train()
    assert set(active_children()) <= before
    assert runner.train_loop.dataloader._iterator is None and runner.val_loop.dataloader._iterator is None
    for _ in range(2):  # a second pass starts workers again
        assert "accuracy/top1" in runner.val()
        assert set(active_children()) <= before
    assert "accuracy/top1" in runner.test()
    assert set(active_children()) <= before
