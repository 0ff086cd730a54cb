"""Text from a file (a name in a pickle, a key, a server's reply) made fit for an error message.

A hostile file chooses these strings: printed raw, they can hold terminal escape sequences (a fake
success line, a clipboard write) or megabytes. :func:`shown` quotes a value, :func:`printable` cleans a
message; both escape every character outside printable ASCII and cut the text to a bounded length.
"""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np
import torch

# What may be shown by its own repr: each is short or summarises itself (tensors and arrays past 1000
# elements). Anything else is shown by its type's name: a storage's repr lists every element, and a
# 4 MB checkpoint whose pickle returned a bare storage took 10 s to refuse while that message was built.
_SELF_SUMMARISING = (
    type(None),
    int,
    float,
    complex,
    bytes,
    torch.Size,
    type,
    torch.Tensor,
    torch.dtype,
    torch.device,
    np.ndarray,
    np.generic,
    np.dtype,
)


class _Repr(reprlib.Repr):
    def repr_instance(self, x: Any, level: int) -> str:
        if isinstance(x, _SELF_SUMMARISING):
            return super().repr_instance(x, level)
        return f"<{type(x).__name__}>"


_REPR = _Repr()
_REPR.maxlevel, _REPR.maxstring, _REPR.maxother, _REPR.maxlong = 2, 48, 48, 48
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 4


def _escaped(text: str) -> str:
    return "".join(c if " " <= c <= "~" else ascii(c)[1:-1] for c in text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def shown(value: Any, limit: int = 60) -> str:
    """``value`` quoted for a message: ``'posix.system'``, ``(1, 2, ...)``; printable ASCII only, at most
    ``limit`` characters."""
    if isinstance(value, str):
        return "'" + _cut(_escaped(_cut(value, limit)), limit - 2) + "'"
    return _cut(_escaped(_REPR.repr(value)), limit)


def printable(text: str, limit: int = 300) -> str:
    """``text`` (an exception's message) with every character outside printable ASCII escaped, cut to
    ``limit`` characters."""
    return _cut(_escaped(_cut(text, limit)), limit)
