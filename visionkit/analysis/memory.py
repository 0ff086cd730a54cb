"""Peak CPU memory that PyTorch allocates during a forward pass.

Method: ``torch.profiler`` with ``profile_memory=True`` records one ``[memory]`` event for every
allocation (+bytes) and free (-bytes) made through PyTorch's CPU allocator, with a timestamp. Summing
them in time order gives the bytes held at each moment; the peak of that running sum is the peak
activation memory of the call: tensors it creates, including oneDNN's workspaces and reordered copies
(they come from the same allocator), the output, and temporaries freed before it returns.

Limits: memory that existed before the call (parameters, the inputs) is not counted; allocations that
bypass PyTorch's allocator (a C library's own ``malloc``, Python objects) are not seen; the figure is
what tensors hold, not the process's resident memory, which the system allocator may keep higher.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn
from torch.profiler import DeviceType, ProfilerActivity, profile


def peak_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated on the CPU by PyTorch while ``fn()`` runs, above what was held before it."""
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = [
        event
        for event in prof.profiler.kineto_results.events()
        if event.name() == "[memory]" and event.device_type() == DeviceType.CPU
    ]
    held = peak = 0
    for event in sorted(events, key=lambda event: event.start_ns()):
        held += event.nbytes()
        peak = max(peak, held)
    return peak


def peak_forward_memory(model: nn.Module, inputs: Tensor, **forward_kwargs: Any) -> int:
    """Peak bytes of CPU activations during ``model(inputs, **forward_kwargs)`` under ``torch.no_grad``.

    inputs: e.g. (N, 3, H, W) images already on the CPU. Parameters and ``inputs`` are not counted.
    """

    def forward() -> None:
        with torch.no_grad():
            model(inputs, **forward_kwargs)

    return peak_memory(forward)
