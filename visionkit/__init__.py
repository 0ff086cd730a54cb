"""visionkit: a registry-based, config-driven multi-task vision framework for efficient models."""

import os

# albumentations >= 2 checks PyPI for updates on import unless told not to; there is no network here.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"
