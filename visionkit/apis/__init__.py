"""High-level Python API over configs and checkpoints."""

from .inference import build_test_pipeline, inference_model, init_model, prepare_image

__all__ = ["build_test_pipeline", "inference_model", "init_model", "prepare_image"]
