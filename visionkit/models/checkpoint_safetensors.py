"""Reading ``.safetensors`` files (timm's and the Hugging Face hub's format) within bounded cost.

A safetensors file is an 8-byte little-endian header length N, N bytes of JSON (each tensor's dtype, shape
and byte range, plus optional string metadata), then the tensors' bytes; nothing in it is executable, and
the ``safetensors`` package reads it memory-mapped. Before the package parses anything, visionkit checks
the header itself (Python's ``json``, at most :data:`MAX_HEADER_BYTES`): a flat object of tensor entries of
a numeric dtype, at most ``MAX_DIMS`` non-negative sizes each, whose byte ranges tile the data exactly
(no overlap, no gap, nothing past the end) and hold exactly their elements. So reading a file of S bytes
costs the tensors' bytes (at most S, mapped from the file) plus the parsed header (docs/trust_model.md).
"""

from __future__ import annotations

import json
import math
from typing import Any, BinaryIO

from .checkpoint_allowlist import MAX_DIMS, MAX_EMPTY_EXTENT
from .untrusted_text import shown

# Headers of vision checkpoints are kilobytes (timm's MobileNetV3: 25 kB); a 100 000-tensor language model's
# about 10 MB. The package itself accepts up to 100 MB.
MAX_HEADER_BYTES = 16 << 20
_ITEMSIZE = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


class SafetensorsLayoutError(ValueError):
    """A safetensors header that visionkit does not hand to the package (the message says why)."""


def header_length(head: bytes) -> int:
    """The header length N a file's first 8 bytes announce."""
    return int.from_bytes(head[:8], "little")


def is_safetensors(head: bytes, size: int) -> bool:
    """Whether a file of ``size`` bytes starting with ``head`` is laid out as a safetensors file: a header
    length that fits the file, then a JSON object."""
    return len(head) > 9 and 2 <= header_length(head) <= size - 8 and head[8:9] == b"{"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        raise SafetensorsLayoutError("its header names a tensor twice")
    return mapping


def _check_entry(name: str, entry: Any, data_size: int) -> tuple[int, int]:
    """One tensor's entry -> its byte range in the data, after checking it."""
    what = f"tensor {shown(name)}"
    if type(entry) is not dict or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsLayoutError(f"{what} has an entry other than dtype, shape and data_offsets")
    itemsize = _ITEMSIZE.get(entry["dtype"]) if type(entry["dtype"]) is str else None
    if itemsize is None:
        raise SafetensorsLayoutError(f"{what} has dtype {shown(entry['dtype'])}: only numeric dtypes load")
    shape, offsets = entry["shape"], entry["data_offsets"]
    if type(shape) is not list or len(shape) > MAX_DIMS or not all(type(n) is int and n >= 0 for n in shape):
        raise SafetensorsLayoutError(f"{what} has shape {shown(shape)}")
    if not (type(offsets) is list and len(offsets) == 2 and all(type(n) is int for n in offsets)):
        raise SafetensorsLayoutError(f"{what} has data_offsets {shown(offsets)}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_size:
        raise SafetensorsLayoutError(f"{what} lies outside the file's {data_size} bytes of data")
    count = math.prod(shape)
    if count == 0 and math.prod(max(n, 1) for n in shape) > MAX_EMPTY_EXTENT:
        raise SafetensorsLayoutError(f"{what} is empty with sizes {shown(shape)}")
    if count * itemsize != end - begin:
        raise SafetensorsLayoutError(f"{what} of shape {shown(shape)} spans {end - begin} bytes")
    return begin, end


def check_header(header: Any, data_size: int) -> None:
    """Refuse a parsed header unless its tensors tile the ``data_size`` bytes after it (see the module
    docstring); ``__metadata__`` may map strings to strings."""
    if type(header) is not dict:
        raise SafetensorsLayoutError("its header is not a JSON object")
    spans = []
    for name, entry in header.items():
        if name == "__metadata__":
            if type(entry) is not dict or not all(type(v) is str for v in entry.values()):
                raise SafetensorsLayoutError("its __metadata__ is not strings")
            continue
        spans.append(_check_entry(name, entry, data_size))
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            problem = "overlap" if begin < position else "leave a gap"
            raise SafetensorsLayoutError(f"its tensors {problem} at byte {begin} of its data")
        position = end
    if position != data_size:
        raise SafetensorsLayoutError(f"{data_size - position} bytes at its end belong to no tensor")


def read_safetensors(file: BinaryIO, map_location: Any = "cpu") -> dict[str, Any]:
    """The tensors of a safetensors file, by name, on the CPU (its string metadata is not returned)."""
    size = file.seek(0, 2)
    file.seek(0)
    length = header_length(file.read(8))
    if length > min(MAX_HEADER_BYTES, size - 8):
        raise SafetensorsLayoutError(
            f"its header claims {length} bytes; at most {MAX_HEADER_BYTES >> 20} MiB and the file's size load"
        )
    try:
        header = json.loads(file.read(length), object_pairs_hook=_no_duplicates)
    except SafetensorsLayoutError:
        raise
    except (ValueError, RecursionError) as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise SafetensorsLayoutError(f"its header is not JSON ({type(error).__name__})") from None
    check_header(header, size - 8 - length)
    from safetensors import safe_open
    from safetensors.torch import load

    path = getattr(file, "name", None)
    if not isinstance(path, str):  # an in-memory file
        file.seek(0)
        return load(file.read())
    with safe_open(path, framework="pt") as tensors:
        return {name: tensors.get_tensor(name) for name in tensors.keys()}
