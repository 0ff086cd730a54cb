"""Starting torch.distributed so that one config runs on CPUs (gloo) and GPUs (nccl) alike.

mmengine 0.10's ``init_dist`` calls ``torch.cuda.set_device`` whatever the backend, so on a machine
without CUDA every launcher fails with "Found no NVIDIA driver", and its DDP wrapper passes
``device_ids=[LOCAL_RANK]``, which torch refuses for a CPU module. Here the process group is started
first (mmengine's ``setup_env`` then finds it running and skips its own call), and the wrapper config
gets ``device_ids=None`` on CPU.

Backend: ``env_cfg.dist_cfg.backend`` if the config names one, else ``'nccl'`` with CUDA and ``'gloo'``
without. The launchers set the environment: torchrun (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``,
``MASTER_ADDR``, ``MASTER_PORT``) or Slurm (``SLURM_PROCID``, ``SLURM_NTASKS``, ``SLURM_NODELIST``...).
"""

from __future__ import annotations

import datetime
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.dist import init_dist

AUTO_BACKEND = "auto"


def default_backend() -> str:
    """``'nccl'`` where CUDA is available, ``'gloo'`` otherwise."""
    return "nccl" if torch.cuda.is_available() else "gloo"


def resolve_dist_cfg(dist_cfg: dict | None) -> dict:
    """A copy of ``dist_cfg`` with ``backend`` filled in (missing, None or 'auto' -> the machine's).

    Raises ``ValueError`` for ``nccl`` on a machine without CUDA, naming the setting to change.
    """
    cfg = dict(dist_cfg or {})
    if cfg.get("backend") in (None, AUTO_BACKEND):
        cfg["backend"] = default_backend()
    if cfg["backend"] == "nccl" and not torch.cuda.is_available():
        raise ValueError(
            "env_cfg.dist_cfg.backend='nccl' needs CUDA, which this machine lacks: remove the setting "
            "(the backend then follows the machine) or pass --cfg-options env_cfg.dist_cfg.backend=gloo"
        )
    return cfg


def slurm_environment(port: int | None = None) -> dict[str, str]:
    """torchrun's variables (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_*``) from Slurm's.

    The master is the first host of ``SLURM_NODELIST`` unless ``MASTER_ADDR`` is set; the port is
    ``port``, else ``MASTER_PORT``, else 29500.
    """
    env = os.environ
    proc_id = int(env["SLURM_PROCID"])
    ntasks = int(env["SLURM_NTASKS"])
    local_rank = env.get("SLURM_LOCALID")
    if local_rank is None:
        local_rank = str(proc_id % max(1, torch.cuda.device_count()))
    addr = env.get("MASTER_ADDR") or subprocess.getoutput(
        f"scontrol show hostname {env['SLURM_NODELIST']} | head -n1"
    )
    return {
        "RANK": str(proc_id),
        "LOCAL_RANK": local_rank,
        "WORLD_SIZE": str(ntasks),
        "MASTER_ADDR": addr,
        "MASTER_PORT": str(port or env.get("MASTER_PORT", 29500)),
    }


def init_distributed(launcher: str, dist_cfg: dict | None = None) -> None:
    """Start the default process group for ``launcher`` ('pytorch', 'slurm' or 'mpi').

    ``dist_cfg`` is mmengine's ``env_cfg.dist_cfg`` (``backend``, ``timeout`` in seconds, ``port`` for
    Slurm, other keys go to ``init_process_group``). With CUDA each process takes GPU ``LOCAL_RANK``.
    """
    cfg = resolve_dist_cfg(dist_cfg)
    if launcher == "mpi":  # mmengine's MPI path sets the device from the MPI rank
        init_dist(launcher, **cfg)
        return
    if launcher not in ("pytorch", "slurm"):
        raise ValueError(f"launcher must be 'pytorch', 'slurm' or 'mpi', got '{launcher}'")
    backend = cfg.pop("backend")
    port = cfg.pop("port", None)
    cfg.pop("init_backend", None)
    if cfg.get("timeout") is not None:
        cfg["timeout"] = datetime.timedelta(seconds=cfg["timeout"])
    if launcher == "slurm":
        os.environ.update(slurm_environment(port))
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    torch_dist.init_process_group(backend=backend, **cfg)


def cpu_ddp_wrapper_cfg(model_wrapper_cfg: dict | None, find_unused_parameters: bool = False) -> dict:
    """mmengine's DDP wrapper config for a CPU module: ``device_ids=None`` (torch refuses a device list)."""
    cfg = dict(
        model_wrapper_cfg or dict(broadcast_buffers=False, find_unused_parameters=find_unused_parameters)
    )
    cfg.setdefault("type", "MMDistributedDataParallel")
    cfg["device_ids"] = None
    return cfg
