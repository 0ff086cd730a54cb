"""Model analysis: parameter and multiply-add counts."""

from .complexity import ComplexityReport, count_complexity

__all__ = ["ComplexityReport", "count_complexity"]
