"""Running configs on mmengine's Runner: config loading, overrides, checkpoint I/O, exact resume, preemption,
hooks, distributed setup, mixed precision."""

from . import hooks, optimizers
from .amp import CPUAutocastOptimWrapper, amp_optim_wrapper, cpu_supports_bfloat16
from .config import load_config, set_data_root
from .dist import init_distributed, resolve_dist_cfg
from .runner import Runner
from .user_errors import USER_ERRORS

__all__ = [
    "USER_ERRORS",
    "CPUAutocastOptimWrapper",
    "Runner",
    "amp_optim_wrapper",
    "cpu_supports_bfloat16",
    "hooks",
    "init_distributed",
    "load_config",
    "optimizers",
    "resolve_dist_cfg",
    "set_data_root",
]
