"""tools/quickstart.py's steps: the commands it runs per task and the summary it prints.

The steps themselves (make_toy_data, train, test) have their own end-to-end tests; here they are recorded
and stand-ins write what the real tools would (``last_checkpoint``, ``test_metrics.json``).
"""

import json
from pathlib import Path

import pytest

from .run_tool import load_tool


@pytest.fixture
def quickstart(monkeypatch, tmp_path):
    tool = load_tool("quickstart")
    steps: list[tuple[str, ...]] = []

    def run_step(*args: str) -> None:
        steps.append(args)
        if args[0] == "tools/train.py":
            work_dir = Path(args[args.index("--work-dir") + 1])
            work_dir.mkdir(parents=True, exist_ok=True)
            (work_dir / "last_checkpoint").write_text(str(work_dir / "epoch_3.pth"))
        elif args[0] == "tools/test.py":
            work_dir = Path(args[args.index("--work-dir") + 1])
            (work_dir / "test_metrics.json").write_text(json.dumps({"config": args[1]}))

    monkeypatch.setattr(tool, "run_step", run_step)
    return tool, steps, tmp_path / "qs"


def test_each_task_makes_its_data_trains_then_tests_its_last_checkpoint(quickstart, capsys):
    tool, steps, root = quickstart
    tool.main(["detection", "multitask", "--work-dir", str(root)])
    det, mt = str(root / "detection"), str(root / "multitask")
    assert steps == [
        ("tools/make_toy_data.py", "coco"),
        ("tools/train.py", "configs/ssdlite_mnv2_toy.py", "--work-dir", det),
        ("tools/test.py", "configs/ssdlite_mnv2_toy.py", f"{det}/epoch_3.pth", "--work-dir", det,
         "--out", f"{det}/predictions.pkl"),
        ("tools/make_toy_data.py", "coco"),
        ("tools/make_toy_data.py", "voc"),
        ("tools/train.py", "configs/multitask_mnv2_toy.py", "--work-dir", mt),
        ("tools/test.py", "configs/multitask_mnv2_toy.py", f"{mt}/epoch_3.pth", "--work-dir", mt,
         "--out", f"{mt}/predictions.pkl"),
    ]  # fmt: skip
    summary = json.loads(capsys.readouterr().out.split("):\n", 1)[1])
    assert list(summary) == ["detection", "multitask"]
    assert summary["detection"]["config"] == "configs/ssdlite_mnv2_toy.py"  # each task's own metrics file
    assert summary["multitask"]["config"] == "configs/multitask_mnv2_toy.py"


def test_default_runs_the_three_single_tasks(quickstart):
    tool, steps, root = quickstart
    tool.main(["--work-dir", str(root)])
    trained = [s[1] for s in steps if s[0] == "tools/train.py"]
    assert trained == [
        "configs/mobilenet_v2_toy.py",
        "configs/ssdlite_mnv2_toy.py",
        "configs/deeplabv3lite_mnv2_toy.py",
    ]


def test_unknown_task_is_refused_with_the_choices(quickstart, capsys):
    tool, steps, root = quickstart
    with pytest.raises(SystemExit):
        tool.main(["detecton", "--work-dir", str(root)])
    assert "unknown task(s) detecton; choose from classification, detection" in capsys.readouterr().err
    assert steps == []
