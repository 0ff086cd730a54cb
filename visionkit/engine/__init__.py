"""Running configs on mmengine's Runner: config loading, overrides, checkpoint I/O and hooks."""

from . import hooks
from .config import load_config, set_data_root
from .runner import Runner
from .user_errors import USER_ERRORS

__all__ = ["USER_ERRORS", "Runner", "hooks", "load_config", "set_data_root"]
