"""tools/quickstart.py's steps: the commands it runs per task, the summary table and how a failure reads.

The steps themselves (make_toy_data, train, test) have their own end-to-end tests; here they are recorded
and stand-ins write what the real tools would (``last_checkpoint``, ``test_metrics.json``).
"""

import json
from pathlib import Path

import pytest

from .run_tool import load_tool

METRICS = {
    "mobilenet_v2_toy.py": {"accuracy/top1": 97.5},
    "ssdlite_mnv2_toy.py": {"coco/bbox_mAP": 0.61234, "coco/bbox_mAP_50": 0.9049, "coco/bbox_mAP_75": 0.7},
    "deeplabv3lite_mnv2_toy.py": {"mIoU": 81.234, "aAcc": 97.0},
    "multitask_mnv2_toy.py": {"detection/coco/bbox_mAP": 0.5, "segmentation/mIoU": 80.0},
}


@pytest.fixture
def quickstart(monkeypatch, tmp_path):
    tool = load_tool("quickstart")
    steps: list[tuple[str, ...]] = []

    def run_step(*args: str, log=None, verbose=False) -> None:
        steps.append(args)
        if args[0] == "train.py":
            work_dir = Path(args[args.index("--work-dir") + 1])
            work_dir.mkdir(parents=True, exist_ok=True)
            (work_dir / "last_checkpoint").write_text(str(work_dir / "epoch_3.pth"))
        elif args[0] == "test.py":
            work_dir = Path(args[args.index("--work-dir") + 1])
            (work_dir / "test_metrics.json").write_text(json.dumps(METRICS[Path(args[1]).name]))

    monkeypatch.setattr(tool, "run_step", run_step)
    return tool, steps, tmp_path / "qs"


def test_detection_alone_first_trains_the_classifier_and_starts_from_its_checkpoint(quickstart):
    tool, steps, root = quickstart
    tool.main(["detection", "--work-dir", str(root)])
    det, cls = str(root / "detection"), str(root / "classification")
    assert steps == [
        ("make_toy_data.py", "coco"),
        ("make_toy_data.py", "classification"),
        ("train.py", "configs/mobilenet_v2_toy.py", "--work-dir", cls),
        ("train.py", "configs/ssdlite_mnv2_toy.py", "--work-dir", det,
         "--cfg-options", f"model.backbone.init_cfg.checkpoint={cls}/epoch_3.pth"),
        ("test.py", "configs/ssdlite_mnv2_toy.py", f"{det}/epoch_3.pth", "--work-dir", det,
         "--out", f"{det}/predictions.pkl", "--show-dir", f"{det}/pictures", "--show-limit", "8"),
    ]  # fmt: skip


def test_default_trains_the_classifier_once_and_seeds_both_other_tasks_from_it(quickstart):
    tool, steps, root = quickstart
    tool.main(["--work-dir", str(root)])
    trained = [s for s in steps if s[0] == "train.py"]
    assert [s[1] for s in trained] == [
        "configs/mobilenet_v2_toy.py",
        "configs/ssdlite_mnv2_toy.py",
        "configs/deeplabv3lite_mnv2_toy.py",
    ]
    pretrained = f"model.backbone.init_cfg.checkpoint={root}/classification/epoch_3.pth"
    assert [s[-1] for s in trained[1:]] == [pretrained, pretrained]
    assert len([s for s in steps if s[0] == "test.py"]) == 3  # the classifier is tested too


def test_summary_is_a_rounded_table_naming_the_pictures(quickstart, capsys):
    tool, _, root = quickstart
    rows = tool.main(["--work-dir", str(root)])
    out = capsys.readouterr().out
    assert [r[2] for r in rows] == ["top-1 97.5%", "mAP 0.612, AP50 0.905", "mIoU 81.2%"]
    table = out.split("\n\n", 1)[1]
    assert table.splitlines()[0].split() == ["task", "config", "result", "minutes"]
    assert "0.61234" not in out and "{" not in out  # rounded, not raw JSON
    assert f"{root}/<task>/pictures/*.png" in table
    # One line per task starting, one with its result, before the table.
    assert [line.split()[1] for line in out.split("\n\n")[0].splitlines()[1::2]] == [
        "classification:",
        "detection:",
        "segmentation:",
    ]


def test_multitask_result_names_each_task_and_starts_from_the_classifier(quickstart):
    tool, steps, root = quickstart
    (row,) = tool.main(["multitask", "--work-dir", str(root)])
    assert row[2] == "detection mAP 0.500, segmentation mIoU 80.0%"
    [train] = [s for s in steps if s[0] == "train.py" and s[1].endswith("multitask_mnv2_toy.py")]
    assert train[-1] == f"model.backbone.init_cfg.checkpoint={root}/classification/epoch_3.pth"


def test_unknown_task_is_refused_with_the_choices(quickstart, capsys):
    tool, steps, root = quickstart
    with pytest.raises(SystemExit):
        tool.main(["detecton", "--work-dir", str(root)])
    assert "unknown task(s) detecton; choose from classification, detection" in capsys.readouterr().err
    assert steps == []


def test_a_failing_step_leaves_its_error_last_and_alone(tmp_path, capsys):
    """The step's output goes to the log; the console ends with its error line and where the log is."""
    tool = load_tool("quickstart")
    failing = tmp_path / "failing_tool.py"
    failing.write_text(
        "import sys\n"
        "for i in range(300):\n    print('setup line', i)\n"
        "sys.exit(\"error: Dataset root 'data/toy/coco' not found: run tools/make_toy_data.py coco\")\n"
    )
    log = tmp_path / "w" / "quickstart.log"
    with pytest.raises(tool.StepFailed) as failure:
        tool.run_step(str(failing), log=log)
    message = str(failure.value)
    assert message.splitlines() == [
        "error: Dataset root 'data/toy/coco' not found: run tools/make_toy_data.py coco",
        f"(full output: {log})",
    ]
    assert "setup line 299" in log.read_text()
    assert capsys.readouterr().out == ""  # nothing of the step reached the console


def test_seed_goes_to_every_training_and_nowhere_else(quickstart):
    tool, steps, root = quickstart
    tool.main(["segmentation", "--seed", "2", "--work-dir", str(root)])
    trained = [s for s in steps if s[0] == "train.py"]
    assert len(trained) == 2  # the classifier first, then segmentation
    assert all(s[s.index("--seed") + 1] == "2" for s in trained)
    assert not any("--seed" in s for s in steps if s[0] != "train.py")


def test_a_step_runs_in_this_process_with_its_arguments_and_all_its_output_in_the_log(tmp_path, capfd):
    """Python's prints, writes to file descriptors 1 and 2 (C libraries) and child processes' output all go
    to the log; the tool sees its own argv, and the caller's argv is back afterwards."""
    import sys

    tool = load_tool("quickstart")
    step = tmp_path / "step_tool.py"
    step.write_text(
        "import os, subprocess, sys\n"
        "print('python print', sys.argv[1:])\n"
        "os.write(1, b'fd 1 write\\n')\n"
        "os.write(2, b'fd 2 write\\n')\n"
        "subprocess.run([sys.executable, '-c', 'print(\"child process\")'], check=True)\n"
        "sys.exit(0)\n"
    )
    log = tmp_path / "w" / "quickstart.log"
    argv = list(sys.argv)
    tool.run_step(str(step), "--flag", "value", log=log)
    assert sys.argv == argv
    text = log.read_text()
    assert text.splitlines()[0] == f"$ python {step} --flag value"
    for line in ("python print ['--flag', 'value']", "fd 1 write", "fd 2 write", "child process"):
        assert line in text
    assert capfd.readouterr() == ("", "")


def test_a_crashing_step_reports_its_exception_with_the_traceback_in_the_log(tmp_path):
    tool = load_tool("quickstart")
    step = tmp_path / "crashing_tool.py"
    step.write_text("def load():\n    raise ValueError('bad annotation in data/x.json')\n\nload()\n")
    log = tmp_path / "w" / "quickstart.log"
    with pytest.raises(tool.StepFailed) as failure:
        tool.run_step(str(step), log=log)
    assert str(failure.value).splitlines()[0] == "ValueError: bad annotation in data/x.json"
    assert "Traceback" in log.read_text() and "in load" in log.read_text()
