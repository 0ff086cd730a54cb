"""Losses: pure functions and the registered modules that wrap them."""

from .ssd_loss import SSDLoss, hard_negative_mask, ssd_loss

__all__ = ["SSDLoss", "hard_negative_mask", "ssd_loss"]
