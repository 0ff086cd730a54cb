"""The wheel carries every config and tool, py.typed and the `visionkit` command, so a pip-installed user's
config can inherit a shipped one (``visionkit::NAME``); the developer tools of ``dev/`` stay out."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_configs_tools_and_the_command(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            ".",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("visionkit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    configs = {p.relative_to(REPO / "configs").as_posix() for p in (REPO / "configs").rglob("*.py")}
    assert configs and {f"visionkit/configs/{c}" for c in configs} <= names  # every config, _base_ too
    tools = {p.relative_to(REPO / "tools").as_posix() for p in (REPO / "tools").rglob("*.py")}
    assert {f"visionkit/_tools/tools/{t}" for t in tools} <= names
    developer_tools = {p.name for p in (REPO / "dev").iterdir() if p.is_file()}
    assert developer_tools and not {n for n in names if n.rpartition("/")[2] in developer_tools}
    assert "visionkit/py.typed" in names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "visionkit = visionkit.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

    # Installed elsewhere, a user's config outside any checkout inherits a shipped one.
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    (tmp_path / "my_detector.py").write_text(
        '_base_ = ["visionkit::ssdlite_mnv2_coco.py"]\nmodel = dict(head=dict(num_classes=3))\n'
    )
    probe = (
        "import visionkit; from visionkit.engine import load_config; "
        "cfg = load_config('my_detector.py'); print(visionkit.__file__, cfg.model.head.num_classes)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "NO_ALBUMENTATIONS_UPDATE": "1", "PATH": ""},
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert out == [str(site / "visionkit" / "__init__.py"), "3"]
