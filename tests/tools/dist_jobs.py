"""Run several tools/train.py and tools/test.py invocations in one process, under torchrun or alone.

    python -m torch.distributed.run --standalone --nproc_per_node 2 tests/tools/dist_jobs.py JOBS.json OUT_DIR
    python tests/tools/dist_jobs.py JOBS.json OUT_DIR

JOBS.json lists ``{"name", "tool": "train" | "test", "argv": [...]}``; under torchrun ``--launcher pytorch``
is added. One process pair runs every job, so the 2-process CI test pays for starting Python and
torch.distributed once. Rank 0 writes ``OUT_DIR/results.json`` (each test job's metrics); every rank
writes ``OUT_DIR/saves_rank<R>.json``, the checkpoint paths that rank saved (mmengine's
``save_checkpoint`` is wrapped to record them, under the final name of visionkit's atomic save).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(f"tool_{name}", REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record_saves(saves: list[str]) -> None:
    import mmengine.runner.runner as runner_module

    save = runner_module.save_checkpoint

    def recording_save(checkpoint, filename, *args, **kwargs):
        folder, name = os.path.split(str(filename))
        if name.startswith(".") and name.endswith(".tmp"):  # written as .NAME.PID.tmp, then renamed to NAME
            name = name[1:].rsplit(".", 2)[0]
        saves.append(os.path.join(folder, name))
        return save(checkpoint, filename, *args, **kwargs)

    runner_module.save_checkpoint = recording_save


def main(jobs_file: str, out_dir: str) -> None:
    distributed = "RANK" in os.environ
    rank = int(os.environ.get("RANK", 0))
    saves: list[str] = []
    _record_saves(saves)
    tools = {"train": _tool("train"), "test": _tool("test")}
    results = {}
    for job in json.loads(Path(jobs_file).read_text()):
        argv = [*job["argv"], "--launcher", "pytorch" if distributed else "none"]
        results[job["name"]] = tools[job["tool"]].main(argv)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"saves_rank{rank}.json").write_text(json.dumps(saves))
    if rank == 0:
        (out / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:3])
