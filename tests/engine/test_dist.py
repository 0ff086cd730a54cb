"""Distributed setup helpers: the backend follows the machine, Slurm's variables become torchrun's."""

import pytest
import torch

from visionkit.engine.dist import cpu_ddp_wrapper_cfg, resolve_dist_cfg, slurm_environment


def test_backend_follows_the_machine_unless_the_config_names_one() -> None:
    expected = "nccl" if torch.cuda.is_available() else "gloo"
    for cfg in (None, {}, dict(backend=None), dict(backend="auto", timeout=60)):
        assert resolve_dist_cfg(cfg)["backend"] == expected
    assert resolve_dist_cfg(dict(backend="auto", timeout=60))["timeout"] == 60
    assert resolve_dist_cfg(dict(backend="gloo"))["backend"] == "gloo"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without CUDA")
def test_nccl_without_cuda_says_what_to_change() -> None:
    with pytest.raises(ValueError, match=r"env_cfg\.dist_cfg\.backend=gloo"):
        resolve_dist_cfg(dict(backend="nccl"))


def test_slurm_variables_become_torchrun_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    env = dict(SLURM_PROCID="5", SLURM_NTASKS="8", SLURM_LOCALID="1", SLURM_NODELIST="node[1-2]")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MASTER_ADDR", "10.0.0.1")
    monkeypatch.delenv("MASTER_PORT", raising=False)
    assert slurm_environment() == dict(
        RANK="5", LOCAL_RANK="1", WORLD_SIZE="8", MASTER_ADDR="10.0.0.1", MASTER_PORT="29500"
    )
    assert slurm_environment(port=29700)["MASTER_PORT"] == "29700"


def test_cpu_ddp_wrapper_has_no_device_ids() -> None:
    assert cpu_ddp_wrapper_cfg(None) == dict(
        type="MMDistributedDataParallel",
        broadcast_buffers=False,
        find_unused_parameters=False,
        device_ids=None,
    )
    custom = cpu_ddp_wrapper_cfg(dict(type="MMDistributedDataParallel", device_ids=[0], static_graph=True))
    assert custom["device_ids"] is None and custom["static_graph"] is True
