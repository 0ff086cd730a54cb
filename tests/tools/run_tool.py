"""Run a script under tools/ in a fresh interpreter, as a user would."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def run_tool(
    script: str, *args: str, check: bool = True, timeout: float = 600
) -> subprocess.CompletedProcess:
    """Run ``tools/<script>`` with ``args`` from the repository root; output is captured as text."""
    env = {**os.environ, "NO_ALBUMENTATIONS_UPDATE": "1", "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / script), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"tools/{script} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def load_tool(name: str, folder: str = "tools") -> ModuleType:
    """<folder>/<name>.py as a module, to call its ``main(argv)`` in this process (faster than a run)."""
    path = REPO / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"visionkit_{folder}_{name.replace('/', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
