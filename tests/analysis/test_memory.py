"""peak_forward_memory counts what a forward allocates, net of frees, and nothing that existed before."""

import torch
from torch import Tensor, nn

from visionkit.analysis import peak_forward_memory, peak_memory

N = 1_000_000  # float32 elements: 4 MB a tensor
MB4 = 4 * N


class KnownAllocations(nn.Module):
    """Allocates a and b, frees a, allocates c and the output: at most b, c and b + c live at once."""

    def forward(self, x: Tensor) -> Tensor:
        a = torch.ones(N)
        b = torch.ones(N)
        del a
        c = torch.ones(N)
        return b + c


def test_peak_is_the_most_held_at_once_not_the_total():
    peak = peak_forward_memory(KnownAllocations(), torch.zeros(1))
    # 4 allocations of 4 MB in all, but a is freed before c exists: 3 x 4 MB at the peak.
    assert abs(peak - 3 * MB4) <= 0.1 * 3 * MB4


def test_existing_tensors_are_not_counted():
    inputs = torch.zeros(N)
    assert peak_forward_memory(nn.Identity(), inputs) < 0.01 * MB4
    assert abs(peak_memory(lambda: inputs.clone()) - MB4) <= 0.1 * MB4


def test_conv_output_is_counted():
    conv = nn.Conv2d(8, 16, 3, padding=1).eval()
    output_bytes = 16 * 64 * 64 * 4
    assert peak_forward_memory(conv, torch.randn(1, 8, 64, 64)) >= output_bytes
