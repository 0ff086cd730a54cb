"""Mixed-precision training that follows the machine: float16/bfloat16 on CUDA, bfloat16 on capable CPUs.

mmengine's ``AmpOptimWrapper`` refuses to run without a GPU. On a CPU with native bfloat16 (AVX512-BF16
or AMX, which oneDNN uses), :class:`CPUAutocastOptimWrapper` runs the forward pass under
``torch.autocast('cpu', dtype=torch.bfloat16)``. bfloat16 keeps float32's exponent range, so no loss
scaling is needed (as torch's AMP docs say for bfloat16).
"""

from __future__ import annotations

from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from torch import nn

from ..registry import OPTIM_WRAPPERS

AMP_DTYPES = ("float16", "bfloat16")


def cpu_supports_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 natively (oneDNN's check: AVX512-BF16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward context is ``torch.autocast('cpu', dtype)`` (bfloat16 by default)."""

    def __init__(self, dtype: str = "bfloat16", **kwargs) -> None:
        super().__init__(**kwargs)
        if dtype not in AMP_DTYPES:
            raise ValueError(f"CPUAutocastOptimWrapper dtype must be one of {AMP_DTYPES}, got '{dtype}'")
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model), torch.autocast("cpu", dtype=self.cast_dtype):
            yield


def amp_optim_wrapper(optim_wrapper: dict, dtype: str | None = None) -> dict:
    """``optim_wrapper`` turned into the mixed-precision wrapper this machine supports.

    CUDA: mmengine's ``AmpOptimWrapper`` in ``dtype`` (default float16, with dynamic loss scaling).
    CPU: :class:`CPUAutocastOptimWrapper` in bfloat16. Raises ``ValueError`` saying why when neither runs.
    """
    if dtype is not None and dtype not in AMP_DTYPES:
        raise ValueError(f"--amp-dtype must be one of {AMP_DTYPES}, got '{dtype}'")
    cfg = dict(optim_wrapper)
    if torch.cuda.is_available():
        dtype = dtype or "float16"
        if dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
            raise ValueError("This GPU has no bfloat16 support: use --amp-dtype float16")
        cfg.update(type="AmpOptimWrapper", dtype=dtype)
        cfg.setdefault("loss_scale", "dynamic")
        return cfg
    if dtype == "float16":
        raise ValueError(
            "float16 mixed precision needs CUDA; on a CPU use bfloat16 (--amp without --amp-dtype)"
        )
    if not cpu_supports_bfloat16():
        raise ValueError(
            "--amp needs CUDA or a CPU with native bfloat16 (AVX512-BF16 or AMX); this machine has neither, "
            "so train in float32 (drop --amp)"
        )
    cfg.update(type="CPUAutocastOptimWrapper", dtype="bfloat16")
    return cfg
