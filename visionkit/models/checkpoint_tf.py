"""Reading TensorFlow checkpoints (``tf.train.Saver`` / ``tf.train.Checkpoint``) with numpy, without TF.

A checkpoint ``PREFIX`` is a TensorBundle: ``PREFIX.index``, an SSTable (LevelDB's table format: data
blocks of prefix-compressed keys, an index block, a 48-byte footer) mapping each variable name to a
``BundleEntryProto`` (dtype, shape, shard, offset, size, CRC-32C), and ``PREFIX.data-0000k-of-0000n``, the
raw little-endian bytes. TF writes the index uncompressed; nothing in either file is executed, only
parsed, and every length in it is checked against the bytes that are there:

- blocks lie inside the index file, one after the other (each byte is parsed once), with their CRC-32C;
- keys are at most :data:`MAX_KEY_BYTES` long and the keys together at most 16 bytes per byte of the index
  (prefix compression lets a few bytes repeat a long key);
- every tensor has at most 32 dimensions, its byte count is its shape's, it lies inside its shard, and the
  tensors of a shard together are no larger than the shard: so the tensors read are at most the size of the
  data files, and each is checked against its CRC-32C.

Strings (TF2's object graph), partitioned variables and dtypes without a numeric numpy form are not read.
The result maps TF's variable names to tensors in TF's layouts (convolutions HWIO, depthwise HWC1): the key
converters of :mod:`.converters` rename and permute them for a model.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import numpy as np
import torch

from .crc32c import crc32c, masked
from .untrusted_text import shown

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_BYTES = 48
MAX_KEY_BYTES = 4096
MAX_DIMS = 32
DATA_SHARD = re.compile(r"\.data-(\d{5})-of-(\d{5})$")
# TF's DataType enum -> numpy dtype (little-endian); the numeric types TF checkpoints hold.
DTYPES = {
    1: "<f4", 2: "<f8", 3: "<i4", 4: "|u1", 5: "<i2", 6: "|i1", 9: "<i8",
    10: "|b1", 17: "<u2", 19: "<f2", 22: "<u4", 23: "<u8",
}  # fmt: skip
DT_STRING = 7


class TensorBundleError(ValueError):
    """The files are not a readable TensorBundle (truncated, corrupted, or another format)."""


class TensorBundleRefused(TensorBundleError):
    """The index claims more than its files hold, or asks for something visionkit does not read."""


def checkpoint_prefix(path: str) -> str | None:
    """The TF checkpoint prefix ``path`` names (the prefix itself, its ``.index`` or a ``.data-*`` shard),
    or None when it names none."""
    if path.endswith(".index"):
        return path[: -len(".index")]
    if DATA_SHARD.search(path):
        return DATA_SHARD.sub("", path)
    if not os.path.exists(path) and os.path.isfile(path + ".index"):
        return path
    return None


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise TensorBundleError("a varint runs past its record")
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if byte < 0x80:
            return result, pos


def _fields(message: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: varints and fixed as ints, length-delimited as bytes."""
    pos = 0
    while pos < len(message):
        tag, pos = _varint(message, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(message, pos)
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            if pos + width > len(message):
                raise TensorBundleError("a fixed-width field runs past its message")
            value, pos = int.from_bytes(message[pos : pos + width], "little"), pos + width
        elif wire == 2:
            length, pos = _varint(message, pos)
            if pos + length > len(message):
                raise TensorBundleError("a field runs past its message")
            value, pos = message[pos : pos + length], pos + length
        else:
            raise TensorBundleError(f"protobuf wire type {wire} is not in a TensorBundle")
        yield field, value


def _block(index: bytes, handle: bytes) -> bytes:
    """The contents of the block a handle (varint offset, varint size) points to, CRC-checked."""
    offset, pos = _varint(handle, 0)
    size, _ = _varint(handle, pos)
    end = offset + size + 5  # contents, compression type, masked CRC-32C
    if end > len(index) - FOOTER_BYTES:
        raise TensorBundleError("a block lies past the end of the index file")
    contents, kind = index[offset : offset + size], index[offset + size]
    if kind != 0:
        raise TensorBundleRefused(f"a block is compressed (type {kind}); TF writes checkpoints uncompressed")
    stored = int.from_bytes(index[offset + size + 1 : end], "little")
    if masked(crc32c(index[offset : offset + size + 1])) != stored:
        raise TensorBundleError("an index block fails its CRC-32C (the file is corrupted)")
    return contents


def _entries(block: bytes, key_budget: list[int]) -> Iterator[tuple[bytes, bytes]]:
    """(key, value) pairs of one block, prefix compression undone."""
    if len(block) < 4:
        raise TensorBundleError("a block is shorter than its restart count")
    restarts = int.from_bytes(block[-4:], "little")
    end = len(block) - 4 - 4 * restarts
    if restarts < 1 or end < 0:
        raise TensorBundleError("a block's restart array does not fit it")
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        unshared, pos = _varint(block, pos)
        value_length, pos = _varint(block, pos)
        if shared > len(key) or pos + unshared + value_length > end:
            raise TensorBundleError("a key or value runs past its block")
        key = key[:shared] + block[pos : pos + unshared]
        if len(key) > MAX_KEY_BYTES:
            raise TensorBundleRefused(f"a variable name is longer than {MAX_KEY_BYTES} bytes")
        key_budget[0] -= len(key)
        if key_budget[0] < 0:
            raise TensorBundleRefused("its names repeat more bytes than 16 per byte of the index")
        pos += unshared
        yield key, block[pos : pos + value_length]
        pos += value_length


def read_index(index: bytes) -> dict[bytes, bytes]:
    """Every (key, value) of an SSTable held in ``index``; the header's key is ``b''``."""
    if len(index) < FOOTER_BYTES or int.from_bytes(index[-8:], "little") != TABLE_MAGIC:
        raise TensorBundleError("no SSTable footer (not a TF checkpoint index, or truncated)")
    footer = index[-FOOTER_BYTES:-8]
    _, pos = _varint(footer, 0)
    _, pos = _varint(footer, pos)  # the metaindex handle: TF writes an empty metaindex
    index_handle = footer[pos:]
    key_budget = [16 * len(index)]
    entries: dict[bytes, bytes] = {}
    block_end = 0
    for _, handle in _entries(_block(index, index_handle), key_budget):
        offset, _ = _varint(handle, 0)
        if offset < block_end:
            raise TensorBundleRefused("its index points twice into the same bytes")
        contents = _block(index, handle)
        block_end = offset + len(contents) + 5
        for key, value in _entries(contents, key_budget):
            entries[key] = value
    return entries


def _shape(message: bytes) -> tuple[int, ...]:
    dims = []
    for field, value in _fields(message):
        if field == 2:
            size = dict(_fields(value)).get(1, 0)
            dims.append(size if size < 1 << 63 else -1)  # a negative int64 comes as a huge varint
        elif field == 3 and value:
            raise TensorBundleRefused("a tensor of unknown rank")
    if len(dims) > MAX_DIMS or any(d < 0 for d in dims):
        raise TensorBundleRefused(f"a shape {shown(tuple(dims))} with negative sizes or > {MAX_DIMS} dims")
    return tuple(dims)


def _entry(name: str, value: bytes) -> dict | None:
    """A ``BundleEntryProto`` as a dict; None for a tensor that is not read (a string)."""
    entry = dict(dtype=0, shape=(), shard=0, offset=0, size=0, crc=None)
    for field, item in _fields(value):
        if field == 1:
            entry["dtype"] = item
        elif field == 2:
            entry["shape"] = _shape(item)
        elif field in (3, 4, 5):
            entry[("shard", "offset", "size")[field - 3]] = item
        elif field == 6:
            entry["crc"] = item
        elif field == 7:
            raise TensorBundleRefused(
                f"{shown(name)} is a partitioned variable, which visionkit does not read"
            )
    if entry["dtype"] == DT_STRING:
        return None
    if entry["dtype"] not in DTYPES:
        raise TensorBundleRefused(f"{shown(name)} has TF dtype {entry['dtype']}, not a numeric type read")
    itemsize = np.dtype(DTYPES[entry["dtype"]]).itemsize
    if entry["size"] != int(np.prod(entry["shape"], dtype=object)) * itemsize:
        raise TensorBundleRefused(f"{shown(name)} claims {entry['size']} bytes for shape {entry['shape']}")
    return entry


def _header(value: bytes) -> tuple[int, str]:
    fields = dict(_fields(value))
    shards, endianness = fields.get(1, 0), fields.get(2, 0)
    if not 1 <= shards <= 99999 or endianness not in (0, 1):
        raise TensorBundleError(f"its header has {shards} shards and endianness {endianness}")
    return shards, "<" if endianness == 0 else ">"


def read_tf_checkpoint(prefix: str) -> dict[str, torch.Tensor]:
    """The tensors of the TF checkpoint ``prefix`` (``PREFIX.index`` + data shards), by variable name.

    Raises:
        TensorBundleError: unreadable or corrupted (a CRC mismatch names the tensor).
        TensorBundleRefused: the index claims more than the files hold, or a type not read.
    """
    with open(prefix + ".index", "rb") as file:
        entries = read_index(file.read())
    if b"" not in entries:
        raise TensorBundleError("its index has no bundle header")
    shards, order = _header(entries.pop(b""))
    paths = [f"{prefix}.data-{k:05d}-of-{shards:05d}" for k in range(shards)]
    parsed = {}
    for key, value in entries.items():
        name = key.decode("utf-8", "replace")
        entry = _entry(name, value)
        if entry is not None:
            parsed[name] = entry
    claimed = [0] * shards
    for name, entry in parsed.items():
        if not 0 <= entry["shard"] < shards:
            raise TensorBundleRefused(f"{shown(name)} names shard {entry['shard']} of {shards}")
        claimed[entry["shard"]] += entry["size"]
    tensors: dict[str, torch.Tensor] = {}
    for shard, path in enumerate(paths):
        names = sorted(
            (n for n, e in parsed.items() if e["shard"] == shard), key=lambda n: parsed[n]["offset"]
        )
        if not names:
            continue
        if not os.path.isfile(path):
            raise TensorBundleError(f"its data file {os.path.basename(path)} is missing")
        size = os.path.getsize(path)
        if claimed[shard] > size:
            raise TensorBundleRefused(f"its tensors claim {claimed[shard]} bytes of a {size}-byte data file")
        with open(path, "rb") as file:
            for name in names:
                tensors[name] = _read_tensor(file, size, name, parsed[name], order)
    return tensors


def _read_tensor(file, size: int, name: str, entry: dict, order: str) -> torch.Tensor:
    if entry["offset"] + entry["size"] > size:
        raise TensorBundleRefused(f"{shown(name)} lies past the end of its data file")
    file.seek(entry["offset"])
    data = file.read(entry["size"])
    if entry["crc"] is not None and masked(crc32c(data)) != entry["crc"]:
        raise TensorBundleError(f"{shown(name)} fails its CRC-32C (the data file is corrupted)")
    dtype = np.dtype(DTYPES[entry["dtype"]]).newbyteorder(order if entry["dtype"] not in (4, 6, 10) else "|")
    array = np.frombuffer(data, dtype=dtype).reshape(entry["shape"]).astype(dtype.newbyteorder("="))
    return torch.from_numpy(array)
