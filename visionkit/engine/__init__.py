"""Running configs on mmengine's Runner: config loading and command-line overrides."""

from .config import load_config, set_data_root
from .runner import Runner

__all__ = ["Runner", "load_config", "set_data_root"]
