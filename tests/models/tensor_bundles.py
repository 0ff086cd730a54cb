"""TensorBundle checkpoints written by hand, byte for byte as TF's ``BundleWriter`` lays them out, so that the
reader's tests can build honest files and hostile variants of them without TensorFlow.

``write_bundle(prefix, tensors)`` writes ``prefix.index`` (an SSTable: one data block of prefix-compressed
entries, an index block, an empty metaindex, the 48-byte footer) and ``prefix.data-00000-of-00001``. The
``entry_edits`` hook changes an entry's fields before it is encoded (a hostile shape, offset, size...).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from visionkit.models.checkpoint_tf import TABLE_MAGIC
from visionkit.models.crc32c import crc32c, masked

TF_DTYPES = {np.dtype("<f4"): 1, np.dtype("<f8"): 2, np.dtype("<i4"): 3, np.dtype("<i8"): 9}


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field(number: int, value: int | bytes, fixed32: bool = False) -> bytes:
    if fixed32:
        return varint(number << 3 | 5) + int(value).to_bytes(4, "little")
    if isinstance(value, bytes):
        return varint(number << 3 | 2) + varint(len(value)) + value
    return varint(number << 3) + varint(value)


def block(entries: list[tuple[bytes, bytes]]) -> bytes:
    """An SSTable block with one restart point; keys prefix-compressed against the previous one."""
    out, previous = bytearray(), b""
    for key, value in entries:
        shared = 0
        while shared < min(len(key), len(previous)) and key[shared] == previous[shared]:
            shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        previous = key
    return bytes(out) + (0).to_bytes(4, "little") + (1).to_bytes(4, "little")


def with_trailer(contents: bytes) -> bytes:
    return contents + b"\0" + masked(crc32c(contents + b"\0")).to_bytes(4, "little")


def entry_proto(entry: dict) -> bytes:
    dims = b"".join(field(2, field(1, size)) for size in entry["shape"])
    proto = field(1, entry["dtype"]) + field(2, dims) + field(3, entry["shard"])
    proto += field(4, entry["offset"]) + field(5, entry["size"]) + field(6, entry["crc"], fixed32=True)
    return proto + b"".join(field(7, s) for s in entry.get("slices", ()))


def index_bytes(entries: list[tuple[bytes, bytes]], num_shards: int = 1) -> bytes:
    header = field(1, num_shards) + field(2, 0) + field(3, field(1, 1))
    data = with_trailer(block([(b"", header), *entries]))
    metaindex = with_trailer(block([]))
    last_key = entries[-1][0] if entries else b""
    index_block = with_trailer(block([(last_key + b"\xff", varint(0) + varint(len(data) - 5))]))
    meta_handle = varint(len(data)) + varint(len(metaindex) - 5)
    index_handle = varint(len(data) + len(metaindex)) + varint(len(index_block) - 5)
    footer = (meta_handle + index_handle).ljust(40, b"\0") + TABLE_MAGIC.to_bytes(8, "little")
    return data + metaindex + index_block + footer


def write_bundle(
    prefix: Path, tensors: dict[str, np.ndarray], entry_edits: Callable[[str, dict], None] | None = None
) -> Path:
    """Write ``tensors`` as the TF checkpoint ``prefix``; returns ``prefix``."""
    data, entries = bytearray(), []
    for name in sorted(tensors):
        array = np.array(tensors[name], order="C")  # ascontiguousarray would make a scalar 1-d
        raw = array.tobytes()
        entry = dict(dtype=TF_DTYPES[array.dtype], shape=array.shape, shard=0, offset=len(data))
        entry.update(size=len(raw), crc=masked(crc32c(raw)))
        if entry_edits is not None:
            entry_edits(name, entry)
        entries.append((name.encode(), entry_proto(entry)))
        data += raw
    Path(f"{prefix}.index").write_bytes(index_bytes(entries))
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(data))
    return prefix
