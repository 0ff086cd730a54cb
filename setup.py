"""Build hook: ship the top-level ``configs/`` and ``tools/`` inside the wheel.

The folders stay where they are in the repository (``configs/`` is where users and developers add
configs); a wheel carries copies as ``visionkit/configs`` and ``visionkit/_tools/tools``, which
``visionkit.engine.shipped_configs`` and ``visionkit.cli`` look for before the source tree's folders.
Everything else is in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# source folder -> destination inside the built package
SHIPPED = {"configs": Path("visionkit/configs"), "tools": Path("visionkit/_tools/tools")}


class BuildWithConfigs(build_py):
    """``build_py`` that also copies the folders of :data:`SHIPPED` into the built package."""

    def run(self) -> None:
        super().run()
        for source, target in SHIPPED.items():
            destination = Path(self.build_lib) / target
            if destination.exists():
                shutil.rmtree(destination)
            shutil.copytree(
                ROOT / source,
                destination,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": BuildWithConfigs})
