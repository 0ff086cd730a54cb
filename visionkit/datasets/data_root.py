"""Checks that a dataset's files are where the config says, with errors that say how to fix it."""

from __future__ import annotations

import os


class MissingDataError(FileNotFoundError):
    """A dataset file or folder named by the config is not on disk; the message says how to fix it."""


def missing_data_message(path: str, what: str, docs: str = "docs/datasets.md") -> str:
    """The error text for a dataset file or folder that is not there."""
    return (
        f"{what} '{path}' not found (absolute: {os.path.abspath(path)}). Put the data there "
        f"(layout in {docs}) or point the config at it: python tools/train.py CONFIG --data-root PATH, "
        f"or --cfg-options train_dataloader.dataset.data_root=PATH "
        f"val_dataloader.dataset.data_root=PATH test_dataloader.dataset.data_root=PATH"
    )


def require_path(path: str, what: str) -> None:
    """Raise :class:`MissingDataError` with :func:`missing_data_message` if ``path`` does not exist."""
    if not os.path.exists(path):
        raise MissingDataError(missing_data_message(path, what))
