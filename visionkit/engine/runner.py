"""mmengine's Runner, able to resume from its own checkpoints under torch >= 2.6."""

from __future__ import annotations

from mmengine.device import get_device
from mmengine.dist import is_distributed
from mmengine.model import is_model_wrapper
from mmengine.registry import MODEL_WRAPPERS
from mmengine.runner import Runner as MMEngineRunner
from torch import nn

from ..models.checkpoint import mmengine_checkpoint_globals
from ..registry import RUNNERS
from .dist import cpu_ddp_wrapper_cfg, init_distributed


@RUNNERS.register_module()
class Runner(MMEngineRunner):
    """mmengine's ``Runner`` whose ``load_from`` / ``resume`` accept the types its checkpoints hold.

    mmengine 0.10.x calls ``torch.load`` with torch's default ``weights_only=True`` (torch >= 2.6), which
    rejects the numpy and ``HistoryBuffer`` objects the Runner itself saves; loading happens here inside
    :func:`~visionkit.models.checkpoint.mmengine_checkpoint_globals`, so only those types are added.

    Distributed runs start through :mod:`visionkit.engine.dist`: the backend and device follow the
    machine (gloo + CPU without CUDA, nccl + GPU ``LOCAL_RANK`` with it) unless the config says otherwise.
    """

    def setup_env(self, env_cfg: dict) -> None:
        if self.distributed and not is_distributed():
            init_distributed(self.launcher, env_cfg.get("dist_cfg"))
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg: dict | None, model: nn.Module) -> nn.Module:
        """mmengine's wrapping, but DDP of a CPU module gets ``device_ids=None`` and no SyncBN.

        torch's SyncBatchNorm runs only on GPUs, so ``sync_bn`` is skipped with a warning on CPU.
        """
        if not self.distributed or is_model_wrapper(model) or get_device() != "cpu":
            return super().wrap_model(model_wrapper_cfg, model)
        if self.cfg.get("sync_bn"):
            self.logger.warning("sync_bn is ignored on CPU (torch's SyncBatchNorm needs GPUs)")
        cfg = cpu_ddp_wrapper_cfg(model_wrapper_cfg, self.cfg.get("find_unused_parameters", False))
        return MODEL_WRAPPERS.build(cfg, default_args=dict(module=model))

    def load_or_resume(self) -> None:
        with mmengine_checkpoint_globals():
            super().load_or_resume()
