"""Training killed or preempted at random points and resumed ends bit-identical to the uninterrupted run.

Each test trains a shrunk toy config (tools/train.py, fresh processes, 1 torch thread) once without
interruption and once through a chain of interruptions, each resumed with --resume; the interruptions
come from ``tests/engine/crash_hooks.py`` (SIGKILL: nothing runs after it; SIGTERM / SIGUSR1: training
must write a checkpoint and stop with 128 + the signal). The final checkpoints must hold the same
weights, EMA weights, optimizer state, schedules and logged losses, tensor for tensor. The uninterrupted
run goes in the background while the chain runs. Iterations are drawn at random; a failure names them.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from visionkit.datasets.toy_data import (
    make_classification_set,
    make_coco_detection_set,
    make_voc_segmentation_set,
)
from visionkit.engine.amp import cpu_supports_bfloat16

from .run_tool import REPO, load_tool
from .test_distributed import _free_port

pytestmark = pytest.mark.slow

ENV = {
    "OMP_NUM_THREADS": "1",
    "NO_ALBUMENTATIONS_UPDATE": "1",
    "CUDA_VISIBLE_DEVICES": "",
    "PYTHONUNBUFFERED": "1",
}
CRASH_HOOK = """
custom_imports = dict(imports=["visionkit", "tests.engine.crash_hooks"], allow_failed_imports=False)
custom_hooks = [dict(type="CrashHook")]
"""
AMP = ["--amp"] if cpu_supports_bfloat16() else []


def _config(tmp_path: Path, base: str, body: str) -> Path:
    path = tmp_path / f"{Path(base).stem}_crash.py"
    path.write_text(f"_base_ = [{str(REPO / base)!r}]\n{CRASH_HOOK}{body}")
    return path


def _train_command(config: Path, work_dir: Path, data_root: Path | None, flags: list[str]) -> list[str]:
    data = ["--data-root", str(data_root)] if data_root else []
    return [
        sys.executable,
        str(REPO / "tools/train.py"),
        str(config),
        "--work-dir",
        str(work_dir),
        *data,
        *flags,
    ]


def _start(command: list[str], crash: str = "", **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **ENV, "VK_CRASH": crash, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a group of its own, for signals sent to the whole job
    )


def _finish(process: subprocess.Popen, expected: int, what: str) -> str:
    output, _ = process.communicate(timeout=600)
    assert process.returncode == expected, (
        f"{what}: exit {process.returncode}, expected {expected}\n{output[-5000:]}"
    )
    return output


def _run(command: list[str], crash: str, expected: int, what: str, **env: str) -> str:
    return _finish(_start(command, crash, **env), expected, what)


def _final_state(path: Path) -> dict[str, torch.Tensor]:
    """Everything training carries on with, as named tensors."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = {f"model.{k}": v for k, v in checkpoint["state_dict"].items()}
    state |= {f"ema.{k}": v for k, v in checkpoint.get("ema_state_dict", {}).items()}
    for number, (key, value) in enumerate(checkpoint["optimizer"]["state"].items()):
        state |= {f"optimizer.{key}.{name}.{number}": torch.as_tensor(v) for name, v in value.items()}
    state["lr"] = torch.tensor([group["lr"] for group in checkpoint["optimizer"]["param_groups"]])
    state["steps"] = torch.tensor([checkpoint["meta"]["epoch"], checkpoint["meta"]["iter"]])
    state["scheduler_steps"] = torch.tensor([s["last_step"] for s in checkpoint["param_schedulers"]])
    losses = checkpoint["message_hub"]["log_scalars"]["train/loss"]
    state["logged_losses"] = torch.as_tensor(losses.data[0])
    return state


def _assert_identical(reference: Path, resumed: Path, chain: str) -> None:
    expected, actual = _final_state(reference), _final_state(resumed)
    assert expected.keys() == actual.keys(), chain
    different = [k for k in expected if not torch.equal(expected[k], actual[k])]
    assert not different, f"after {chain}: {len(different)} of {len(expected)} differ, e.g. {different[:5]}"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("resume_data")
    return {
        "classification": make_classification_set(
            root / "cls", num_train_per_class=5, num_val_per_class=1, image_size=32
        )["root"],
        "detection": make_coco_detection_set(root / "coco", num_train=10, num_val=2, image_size=(64, 96))[
            "root"
        ],
        "segmentation": make_voc_segmentation_set(root / "voc", num_train=12, num_val=2, image_size=(64, 96))[
            "data_root"
        ],
    }


CLASSIFIER = """
model = dict(backbone=dict(widen_factor=0.35))
size = 32
train_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[
        dict(type="RandomResizedCrop", size=(size, size), scale=(0.5, 1.0)),
        dict(type="HorizontalFlip", p=0.5),
        dict(type="RandomRotate90", p=1.0),
    ]),
    dict(type="PackInputs"),
]
val_pipeline = [
    dict(type="LoadImage"),
    dict(type="Albumentations", transforms=[dict(type="Resize", height=size, width=size)]),
    dict(type="PackInputs"),
]
train_dataloader = dict(
    batch_size=4, num_workers=2, persistent_workers=True, dataset=dict(pipeline=train_pipeline)
)
val_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(pipeline=val_pipeline)
)
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, iter_interval=2, max_keep_ckpts=1))
"""


def test_classifier_with_workers_ema_and_amp_killed_three_times(tmp_path, data):
    """20 images, batch 4: 5 iterations per epoch, 2 epochs, a resume point every 2 iterations."""
    config = _config(tmp_path, "configs/mobilenet_v2_toy.py", CLASSIFIER)
    flags = ["--ema", "--seed", "0", *AMP]
    reference = _start(_train_command(config, tmp_path / "ref", data["classification"], flags))
    command = _train_command(config, tmp_path / "run", data["classification"], [*flags, "--resume"])
    mid_epoch = random.randint(1, 4)  # iteration 1 comes before any checkpoint: resumes from scratch
    save = random.choice([6, 8, 10])  # a resume point of epoch 2, each named before the write began
    chain = f"kill -9 after iteration {mid_epoch}, in the validation of epoch 1, in the save after {save}"
    _run(command, f"kill@train:{mid_epoch}", -signal.SIGKILL, chain)
    _run(command, "kill@val:5", -signal.SIGKILL, chain)
    revalidated = _run(command, f"kill@save:{save}", -signal.SIGKILL, chain)
    assert "Epoch(val) [1][1/2]" in revalidated.split("Load checkpoint from")[1], "the cut validation re-ran"
    previous = {6: "epoch_1.pth", 8: "iter_6.pth", 10: "iter_8.pth"}[save]  # the cut save left it named
    assert (tmp_path / "run" / "last_checkpoint").read_text() == str(tmp_path / "run" / previous), chain
    _run(command, "", 0, chain)
    _finish(reference, 0, "uninterrupted run")
    _assert_identical(tmp_path / "ref" / "epoch_2.pth", tmp_path / "run" / "epoch_2.pth", chain)


DETECTOR = """
train_dataloader = dict(
    num_workers=2, persistent_workers=True, sampler=dict(type="InfiniteSampler", shuffle=True)
)
train_cfg = dict(_delete_=True, by_epoch=False, max_iters=8, val_interval=4)
param_scheduler = [dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=8)]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=3, max_keep_ckpts=1))
log_processor = dict(by_epoch=False)
"""


def test_iteration_based_detector_stopped_by_sigterm_to_all_its_processes(tmp_path, data):
    """SIGTERM to the whole process group (main process and data loader workers), and again during the
    checkpoint it causes: the run writes that checkpoint, exits 143 and resumes exactly. 8 iterations,
    validation after 4 and 8, a checkpoint every 3."""
    config = _config(tmp_path, "tests/tools/dist_configs/ssdlite_tiny.py", DETECTOR)
    reference = _start(_train_command(config, tmp_path / "ref", data["detection"], ["--seed", "1"]))
    command = _train_command(config, tmp_path / "run", data["detection"], ["--seed", "1", "--resume"])
    signalled = random.randint(1, 6)
    # acted on at the end of the next step, or of the validation that follows iteration 4
    saved_at = signalled if signalled % 4 == 0 else signalled + 1
    chain = f"SIGTERM to the group after iteration {signalled}, again while saving after {saved_at}"
    output = _run(command, f"termall@train:{signalled},term@save:{saved_at}", 143, chain)
    saved = tmp_path / "run" / f"iter_{saved_at}.pth"
    assert f"Stopped by SIGTERM after writing {saved}" in output, chain
    assert open(tmp_path / "run" / "last_checkpoint").read() == str(saved)
    _run(command, "", 0, chain)
    _finish(reference, 0, "uninterrupted run")
    _assert_identical(tmp_path / "ref" / "iter_8.pth", tmp_path / "run" / "iter_8.pth", chain)


SEGMENTER = """
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(checkpoint=dict(interval=1, iter_interval=2, max_keep_ckpts=1))
"""


def test_two_process_segmenter_killed_then_preempted_under_slurm(tmp_path, data):
    """torchrun, 2 CPU processes (gloo): both killed at a random iteration; resumed by
    tools/slurm_train.sh (2 tasks of a stand-in srun), where SIGUSR1 reaches rank 1 only: both ranks
    save and stop with 138, and the script requeues the job; the requeued run resumes and finishes."""
    config = _config(tmp_path, "tests/tools/dist_configs/deeplabv3lite_tiny.py", SEGMENTER)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    train = ["--launcher", "pytorch", "--ema", "--seed", "2"]
    ref_command = _train_command(config, tmp_path / "ref", data["segmentation"], train)
    reference = _start([*torchrun, *ref_command[1:]])
    killed_at = random.randint(1, 5)  # 12 images, 2 x batch 2: 3 iterations per epoch
    signalled = random.randint(killed_at + 1, 6)  # 3 or 6: handled after that epoch's validation
    chain = f"kill -9 of both ranks after iteration {killed_at}, SIGUSR1 to rank 1 after {signalled}"
    command = [*torchrun, *_train_command(config, tmp_path / "run", data["segmentation"], train)[1:]]
    _finish(_start(command, f"kill@train:{killed_at}"), 1, chain)  # torchrun reports its workers' failure
    fake_slurm = REPO / "tests" / "tools" / "fake_slurm"
    slurm = [
        "bash",
        str(REPO / "tools/slurm_train.sh"),
        "cpu",
        "vk-resume",
        str(config),
        str(tmp_path / "run"),
    ]
    slurm += ["--data-root", str(data["segmentation"]), "--ema", "--seed", "2"]
    env = dict(
        PATH=f"{fake_slurm}{os.pathsep}{os.environ['PATH']}",
        GRES="",
        GPUS="2",
        GPUS_PER_NODE="2",
        MASTER_PORT=_free_port(),
        SLURM_JOB_ID="4242",
        FAKE_SLURM_REQUEUE_LOG=str(tmp_path / "requeued"),
        FAKE_SLURM_SRUN_LOG=str(tmp_path / "srun"),
    )
    _run(slurm, f"usr1@train:{signalled}", 138, chain, VK_CRASH_RANK="1", **env)
    assert (tmp_path / "requeued").read_text().split() == ["4242"]
    assert "--signal=USR1@120" in (tmp_path / "srun").read_text()
    _run(slurm, "", 0, chain, **{**env, "MASTER_PORT": _free_port()})
    _finish(reference, 0, "uninterrupted run")
    _assert_identical(tmp_path / "ref" / "epoch_2.pth", tmp_path / "run" / "epoch_2.pth", chain)


def test_a_corrupt_image_mid_split_stops_training_naming_it_or_is_skipped(tmp_path):
    root = make_classification_set(
        tmp_path / "cls", num_train_per_class=3, num_val_per_class=1, image_size=32
    )
    bad = sorted(Path(root["root"], "train").rglob("*.JPEG"))[5]
    bad.write_bytes(bad.read_bytes()[:150])  # truncated mid-file
    config = _config(tmp_path, "configs/mobilenet_v2_toy.py", CLASSIFIER)
    train = load_tool("train")
    argv = [str(config), "--work-dir", str(tmp_path / "stop"), "--data-root", str(root["root"])]
    with pytest.raises(
        SystemExit, match=rf"^error: Cannot read image '{bad}': .*check_dataset\.py"
    ) as stopped:
        train.main([*argv, "--cfg-options", "train_cfg.max_epochs=1"])
    assert "Traceback" not in str(stopped.value)  # the worker's traceback is not the message
    output = _run(
        _train_command(config, tmp_path / "skip", root["root"], ["--skip-bad-samples", "2"]), "", 0, "skip"
    )
    skipped = [line for line in output.splitlines() if "Skipped a bad sample" in line]
    assert len(skipped) == 2 and all(str(bad) in line for line in skipped)  # once per epoch, each logged
    assert "(2 of at most 2)" in skipped[1]
