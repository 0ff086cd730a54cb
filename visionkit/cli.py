"""The ``visionkit`` command: ``visionkit train|test|infer|demo|export|benchmark|configs... [options]``.

Each sub-command runs the tool of the same name (``tools/<name>.py``) with the same options, so
``visionkit train CONFIG --work-dir DIR`` is ``python tools/train.py CONFIG --work-dir DIR``. CONFIG may be
a file or a shipped config's name (``visionkit::ssdlite_mnv2_toy.py``, see ``visionkit configs``).
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from .engine.shipped_configs import configs_dir, list_configs

_PACKAGE = Path(__file__).resolve().parent
TOOLS = {
    "train": "train.py",
    "test": "test.py",
    "infer": "infer.py",
    "export": "export.py",
    "demo": "demo.py",
    "benchmark": "benchmark.py",
    "quickstart": "quickstart.py",
    "make-toy-data": "make_toy_data.py",
    "recipe-check": "recipe_check.py",
    "voc-aug": "dataset_converters/voc_aug.py",
    "imagenet-val": "dataset_converters/imagenet_val.py",
    "browse-dataset": "analysis/browse_dataset.py",
    "plot-logs": "analysis/plot_logs.py",
}
USAGE = (
    "usage: visionkit {" + ",".join([*TOOLS, "configs"]) + "} [options]\n"
    "       visionkit COMMAND --help      the options of one command (those of tools/COMMAND.py)\n"
    "       visionkit configs [TEXT]      the shipped configs (names containing TEXT)"
)


def tools_dir() -> Path:
    """The tools' folder: the wheel's copy (``visionkit/_tools/tools``), else the source tree's ``tools/``."""
    for candidate in (_PACKAGE / "_tools" / "tools", _PACKAGE.parent / "tools"):
        if (candidate / "train.py").is_file():
            return candidate
    raise FileNotFoundError(f"visionkit's tools are not installed under {_PACKAGE}; reinstall visionkit")


def print_configs(pattern: str = "") -> None:
    names = [n for n in list_configs() if pattern in n]
    print(f"shipped configs ({configs_dir()}); inherit one with _base_ = ['visionkit::NAME']:")
    print("\n".join(f"  {name}" for name in names) or "  (none match)")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip() + "\n\n" + USAGE)
        return
    command, rest = argv[0], argv[1:]
    if command == "configs":
        print_configs(rest[0] if rest else "")
        return
    if command not in TOOLS:
        raise SystemExit(f"visionkit: unknown command '{command}'\n{USAGE}")
    tool = tools_dir() / TOOLS[command]
    sys.argv = [f"visionkit {command}", *rest]
    runpy.run_path(str(tool), run_name="__main__")


if __name__ == "__main__":
    main()
