"""Model analysis: parameter and multiply-add counts."""

from .complexity import ComplexityReport, count_complexity
from .memory import peak_forward_memory, peak_memory

__all__ = ["ComplexityReport", "count_complexity", "peak_forward_memory", "peak_memory"]
