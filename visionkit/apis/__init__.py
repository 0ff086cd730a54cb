"""High-level Python API over configs and checkpoints."""

from .inference import inference_model, init_model

__all__ = ["inference_model", "init_model"]
