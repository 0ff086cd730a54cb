"""Running configs on mmengine's Runner: config loading, overrides, distributed setup, mixed precision."""

from .amp import CPUAutocastOptimWrapper, amp_optim_wrapper, cpu_supports_bfloat16
from .config import load_config, set_data_root
from .dist import init_distributed, resolve_dist_cfg
from .runner import Runner

__all__ = [
    "CPUAutocastOptimWrapper",
    "Runner",
    "amp_optim_wrapper",
    "cpu_supports_bfloat16",
    "init_distributed",
    "load_config",
    "resolve_dist_cfg",
    "set_data_root",
]
