"""Running configs on mmengine's Runner: config loading and command-line overrides."""

from .config import load_config, set_data_root

__all__ = ["load_config", "set_data_root"]
