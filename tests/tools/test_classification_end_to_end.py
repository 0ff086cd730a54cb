"""Quick-start path on generated ImageNet-layout data: train, get killed, resume, test."""

import json
import pickle
import signal
import subprocess
import sys
import time

import pytest

from visionkit.datasets.toy_data import make_classification_set

from .run_tool import REPO, run_tool

pytestmark = pytest.mark.slow


def _train_options(data_root, max_epochs):
    return [
        "--data-root",
        str(data_root),
        "--cfg-options",
        f"train_cfg.max_epochs={max_epochs}",
        "train_cfg.val_interval=1",
        "default_hooks.checkpoint.interval=1",
        "default_hooks.checkpoint.max_keep_ckpts=-1",
        "default_hooks.logger.interval=1",
        "train_dataloader.batch_size=8",
        "train_dataloader.num_workers=0",
        "train_dataloader.persistent_workers=False",
        "val_dataloader.num_workers=0",
        "val_dataloader.persistent_workers=False",
    ]


def _wait_for(path, process, timeout=300):
    start = time.monotonic()
    while not path.exists():
        assert process.poll() is None, process.communicate()[0]
        assert time.monotonic() - start < timeout, f"{path} did not appear"
        time.sleep(0.2)


def test_killed_training_resumes_and_tests(tmp_path):
    data = make_classification_set(
        tmp_path / "toy", num_train_per_class=6, num_val_per_class=2, image_size=48
    )
    work_dir = tmp_path / "work"
    # A long run, killed without warning once its first checkpoint is on disk.
    command = [sys.executable, "tools/train.py", "configs/mobilenet_v2_toy.py", "--work-dir", str(work_dir)]
    process = subprocess.Popen(
        command + _train_options(data["root"], max_epochs=100),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(work_dir / "epoch_1.pth", process)
        _wait_for(work_dir / "last_checkpoint", process)
    finally:
        process.send_signal(signal.SIGKILL)
        process.communicate()
    last = (work_dir / "last_checkpoint").read_text().strip()
    done = int(last.rsplit("epoch_", 1)[1].removesuffix(".pth"))
    assert done < 100

    resumed = run_tool(
        "train.py",
        "configs/mobilenet_v2_toy.py",
        "--work-dir",
        str(work_dir),
        "--resume",
        *_train_options(data["root"], max_epochs=done + 1),
    )
    log = resumed.stdout + resumed.stderr
    assert f"resumed epoch: {done}" in log, log[-3000:]
    assert (work_dir / f"epoch_{done + 1}.pth").exists()
    assert f"Epoch(train) [{done}]" not in log  # nothing before the checkpoint was trained again

    tested = run_tool(
        "test.py",
        "configs/mobilenet_v2_toy.py",
        str(work_dir / f"epoch_{done + 1}.pth"),
        "--work-dir",
        str(work_dir),
        "--data-root",
        str(data["root"]),
        "--out",
        str(tmp_path / "predictions.pkl"),
    )
    assert "accuracy/top1" in tested.stdout
    metrics = json.loads((work_dir / "test_metrics.json").read_text())
    # The metric equals top-1 counted by hand from the dumped predictions (our own file, just written).
    with open(tmp_path / "predictions.pkl", "rb") as f:
        predictions = pickle.load(f)
    assert len(predictions) == data["num_val"]
    val_labels = sorted(int(line.split()[1]) for line in data["val_ann"].read_text().splitlines())
    assert sorted(int(p["gt_label"]) for p in predictions) == val_labels
    hits = [int(p["pred_label"]) == int(p["gt_label"]) for p in predictions]
    assert metrics["accuracy/top1"] == pytest.approx(100 * sum(hits) / len(hits))
