"""Two CPU processes (torchrun, gloo) train, resume and evaluate as one process does.

One torchrun launch runs every job (tests/tools/dist_jobs.py): detection and segmentation training on
generated data in the real formats and a resume of each, then tools/test.py with ``--out`` for
detection, segmentation and classification checkpoints at val batch 1 and 3 over odd-sized val sets
(9 images, so the sampler pads one duplicate; segmentation images differ in size, so batches pad).
One plain process runs the same evaluations; every metric and every dumped prediction must match.
"""

from __future__ import annotations

import json
import math
import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from visionkit.datasets.toy_data import (
    make_classification_set,
    make_coco_detection_set,
    make_voc_segmentation_set,
)
from visionkit.engine.amp import cpu_supports_bfloat16

from ..lively_models import lively_model
from .run_tool import REPO

pytestmark = pytest.mark.slow

CONFIGS = REPO / "tests" / "tools" / "dist_configs"
TRAIN = {"detection": "ssdlite_tiny.py", "segmentation": "deeplabv3lite_tiny.py"}
# detection scales its lr to the 2 x 2 images per step; segmentation trains with an EMA of its weights and,
# where the CPU computes bfloat16 natively, in mixed precision
TRAIN_FLAGS = {
    "detection": ["--auto-scale-lr"],
    "segmentation": ["--ema", *(["--amp"] if cpu_supports_bfloat16() or torch.cuda.is_available() else [])],
}
SYNC_BN_ON_CPU = "sync_bn is ignored on CPU"
EVAL = {**TRAIN, "classification": "mobilenet_v2_tiny.py"}
ITERS_PER_EPOCH = 2  # 8 training images, 2 processes x batch 2
BATCH_SIZES = (1, 3)
NUM_VAL = 9
DISCRETE_FIELDS = (
    "pred_label",
    "gt_label",
    "pred_labels",
    "pred_seg_map",
    "gt_seg_map",
    "img_id",
    "img_path",
)


def _data_roots(root: Path) -> dict[str, Path]:
    coco = make_coco_detection_set(root / "coco", num_train=8, num_val=NUM_VAL, image_size=(64, 128))
    voc = make_voc_segmentation_set(root / "voc", num_train=8, num_val=NUM_VAL, image_size=(64, 128))
    cls = make_classification_set(root / "cls", num_train_per_class=2, num_val_per_class=3, image_size=64)
    val_list = Path(cls["root"]) / "meta" / "val.txt"  # 4 classes x 3: keep 9, an odd-sized set
    val_list.write_text("\n".join(val_list.read_text().splitlines()[:NUM_VAL]) + "\n")
    return {"detection": coco["root"], "segmentation": voc["data_root"], "classification": cls["root"]}


def _train_jobs(work: Path, roots: dict[str, Path]) -> list[dict]:
    """Per task: one epoch, then a resumed run to two epochs."""
    jobs = []
    for task, config in TRAIN.items():
        common = [str(CONFIGS / config), "--work-dir", str(work / task), "--data-root", str(roots[task])]
        for name, epochs, resume in (("train", 1, []), ("resume", 2, ["--resume"])):
            options = ["--cfg-options", f"train_cfg.max_epochs={epochs}", f"experiment_name={name}_{task}"]
            options += ["sync_bn=torch"] if task == "segmentation" else []  # as the VOC configs
            argv = [*common, *TRAIN_FLAGS[task], *resume, *options]
            jobs.append(dict(name=f"{name}_{task}", tool="train", argv=argv))
    return jobs


def _test_jobs(work: Path, roots: dict[str, Path], tag: str) -> list[dict]:
    """Per task and val batch size: tools/test.py of the task's lively checkpoint, with --out."""
    jobs = []
    for task, config in EVAL.items():
        for batch in BATCH_SIZES:
            name = f"{task}_b{batch}"
            argv = [
                str(CONFIGS / config),
                str(work / f"{task}_eval.pth"),
                "--out",
                str(work / tag / f"{name}.pkl"),
            ]
            argv += ["--work-dir", str(work / tag / name), "--data-root", str(roots[task]), "--cfg-options"]
            argv += [f"test_dataloader.batch_size={batch}", f"experiment_name={tag}_{name}"]
            jobs.append(dict(name=name, tool="test", argv=argv))
    return jobs


def _run_jobs(jobs: list[dict], out_dir: Path, processes: int) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs_file = out_dir / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    launcher = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        f"--nproc_per_node={processes}",
    ]
    command = [*(launcher if processes > 1 else [sys.executable]), str(REPO / "tests/tools/dist_jobs.py")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "NO_ALBUMENTATIONS_UPDATE": "1", "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(
        [*command, str(jobs_file), str(out_dir)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"{result.stdout[-6000:]}\n{result.stderr[-6000:]}"
    return json.loads((out_dir / "results.json").read_text())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("dist")
    roots = _data_roots(root / "data")
    work = root / "work"
    work.mkdir()
    for task, config in EVAL.items():  # trained for 4 iterations, a model predicts one class everywhere
        torch.save({"state_dict": lively_model(CONFIGS / config).state_dict()}, work / f"{task}_eval.pth")
    jobs = _train_jobs(work, roots) + _test_jobs(work, roots, "two")
    two = _run_jobs(jobs, work / "two", processes=2)
    one = _run_jobs(_test_jobs(work, roots, "one"), work / "one", processes=1)
    return dict(work=work, one=one, two=two, roots=roots)


def _train_records(work_dir: Path) -> list[dict]:
    records = []
    for path in sorted(work_dir.glob("*/vis_data/scalars.json")):
        records += [json.loads(line) for line in path.read_text().splitlines()]
    return [r for r in records if "loss" in r]


@pytest.mark.parametrize("task", ["detection", "segmentation"])
def test_two_processes_train_and_resume_at_the_right_iteration(runs: dict, task: str) -> None:
    work = runs["work"] / task
    records = _train_records(work)
    # every iteration logged once: the resumed run continued after the first run's last iteration
    assert [r["iter"] for r in records] == [1, 2, 3, 4]
    assert all(math.isfinite(r["loss"]) for r in records)
    assert sorted(p.name for p in work.glob("*.pth")) == ["epoch_1.pth", "epoch_2.pth"]
    checkpoint = torch.load(work / "epoch_2.pth", map_location="cpu", weights_only=False)
    assert (checkpoint["meta"]["epoch"], checkpoint["meta"]["iter"]) == (2, 2 * ITERS_PER_EPOCH)
    if task == "segmentation":
        assert "ema_state_dict" in checkpoint
        if not torch.cuda.is_available():  # torch's SyncBatchNorm needs GPUs: plain BatchNorm, and a warning
            logs = "".join(path.read_text() for path in work.glob("*/*.log"))
            assert logs.count(SYNC_BN_ON_CPU) == 2
    else:  # --auto-scale-lr: lr x (2 processes x batch 2) / base_batch_size, here under warm-up
        cfg = Config.fromfile(str(CONFIGS / TRAIN[task]))
        ratio = 2 * cfg.train_dataloader.batch_size / cfg.auto_scale_lr.base_batch_size
        warmup = cfg.param_scheduler[0].start_factor
        assert records[0]["lr"] == pytest.approx(cfg.optim_wrapper.optimizer.lr * warmup * ratio)


def test_only_rank_zero_writes_checkpoints(runs: dict) -> None:
    out = runs["work"] / "two"
    saved = json.loads((out / "saves_rank0.json").read_text())
    expected = [str(runs["work"] / task / f"epoch_{e}.pth") for task in TRAIN for e in (1, 2)]
    assert sorted(saved) == sorted(expected)  # once each
    assert json.loads((out / "saves_rank1.json").read_text()) == []


@pytest.mark.parametrize("batch", BATCH_SIZES)
@pytest.mark.parametrize("task", list(EVAL))
def test_two_process_metrics_equal_one_process_exactly(runs: dict, task: str, batch: int) -> None:
    name = f"{task}_b{batch}"
    one, two = runs["one"][name], runs["two"][name]
    assert two == one
    # and the metrics do not depend on the batch size either (the val images differ in size)
    assert runs["one"][f"{task}_b1"] == runs["one"][f"{task}_b{BATCH_SIZES[-1]}"]


@pytest.mark.parametrize("batch", BATCH_SIZES)
@pytest.mark.parametrize("task", list(EVAL))
def test_two_process_predictions_equal_one_process(runs: dict, task: str, batch: int) -> None:
    name = f"{task}_b{batch}"
    with open(runs["work"] / "one" / f"{name}.pkl", "rb") as f:
        one = pickle.load(f)
    with open(runs["work"] / "two" / f"{name}.pkl", "rb") as f:
        two = pickle.load(f)
    assert len(one) == len(two) == NUM_VAL
    for a, b in zip(one, two, strict=True):
        assert a.keys() == b.keys()
        for key, value in a.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, b[key]), (key, a.get("img_path"))
            else:
                assert value == b[key], key
    _assert_predictions_vary(task, one)


def _assert_predictions_vary(task: str, predictions: list[dict]) -> None:
    """The comparison means something only if the model's output depends on its input."""
    if task == "classification":
        scores = torch.stack([p["pred_score"] for p in predictions])
        assert (scores - scores[0]).abs().max() > 1e-3
    elif task == "detection":
        assert len({tuple(p["pred_bboxes"][0].round().tolist()) for p in predictions}) > 1
    else:
        assert len(torch.cat([p["pred_seg_map"].unique() for p in predictions]).unique()) > 1


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def _launch(command: list[str], cwd: Path, **env: str) -> None:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "NO_ALBUMENTATIONS_UPDATE": "1",
        "CUDA_VISIBLE_DEVICES": "",
        **env,
    }
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"


def test_dist_test_sh_keeps_the_callers_relative_paths(runs: dict, tmp_path: Path) -> None:
    (tmp_path / "cls.py").write_text(f"_base_ = [{str(CONFIGS / EVAL['classification'])!r}]\n")
    data_root = os.path.relpath(runs["roots"]["classification"], tmp_path)
    checkpoint = os.path.relpath(runs["work"] / "classification_eval.pth", tmp_path)
    command = ["bash", str(REPO / "tools/dist_test.sh"), "cls.py", checkpoint, "2", "--work-dir", "out"]
    command += ["--data-root", data_root, "--cfg-options", "test_dataloader.batch_size=3"]
    _launch(command, tmp_path, PORT=_free_port())
    metrics = json.loads((tmp_path / "out" / "test_metrics.json").read_text())
    assert metrics == runs["one"]["classification_b3"]


def test_slurm_test_sh_runs_cpu_processes(runs: dict, tmp_path: Path) -> None:
    """tools/slurm_test.sh under a stand-in srun (tests/tools/fake_slurm) that starts 2 tasks here."""
    command = [
        "bash",
        str(REPO / "tools/slurm_test.sh"),
        "cpu",
        "vk-test",
        str(CONFIGS / EVAL["segmentation"]),
    ]
    command += [str(runs["work"] / "segmentation_eval.pth"), "--work-dir", str(tmp_path / "out")]
    command += [
        "--data-root",
        str(runs["roots"]["segmentation"]),
        "--cfg-options",
        "test_dataloader.batch_size=3",
    ]
    path = f"{REPO / 'tests/tools/fake_slurm'}{os.pathsep}{os.environ['PATH']}"
    _launch(command, tmp_path, PATH=path, GRES="", GPUS="2", GPUS_PER_NODE="2", MASTER_PORT=_free_port())
    metrics = json.loads((tmp_path / "out" / "test_metrics.json").read_text())
    assert metrics == runs["one"]["segmentation_b3"]
