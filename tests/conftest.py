import os
import sys
from pathlib import Path

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
# tools/benchmarking/ is imported as ``benchmarking``, as tools/benchmark.py imports it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
