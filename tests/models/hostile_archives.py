"""Zip checkpoints built byte by byte: layouts ``torch.save`` never writes that ``torch.load`` still reads.

- :func:`two_directories`: one central directory for Python's ``zipfile`` (every record stored) and
  another, at the offset the end record names, for torch's miniz (``data.pkl`` deflated: a few kB that
  inflate to tens of MB). Python reads the directory just before the end record and takes the gap for
  data prepended to the archive; miniz believes the offset.
- :func:`overlapping_records`: ``count`` storage records whose directory entries all point at one stored
  record, and a pickle that loads each: a file of one storage's size asks for ``count`` of them.
"""

from __future__ import annotations

import io
import pickle
import struct
import zlib
from pathlib import Path

import torch

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")


def honest_records(obj) -> dict[str, bytes]:
    """The records (names as torch.save writes them, ``archive/...``) of ``torch.save(obj)``."""
    import zipfile

    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


class ZipWriter:
    """Local records appended one by one; directories written from chosen entries."""

    def __init__(self) -> None:
        self.body = bytearray()

    def add(
        self, name: str, stored: bytes, method: int = 0, size: int | None = None, crc: int | None = None
    ) -> dict:
        """Append a local record holding ``stored`` (deflated data of ``size`` bytes and ``crc`` when
        ``method`` is 8)."""
        entry = {
            "name": name.encode(),
            "offset": len(self.body),
            "method": method,
            "crc": zlib.crc32(stored) if crc is None else crc,
            "csize": len(stored),
            "usize": len(stored) if size is None else size,
        }
        self.body += _LOCAL.pack(
            0x04034B50,
            20,
            0,
            method,
            0,
            0,
            entry["crc"],
            entry["csize"],
            entry["usize"],
            len(entry["name"]),
            0,
        )
        self.body += entry["name"] + stored
        return entry

    @staticmethod
    def directory(entries: list[dict], shift: int = 0, method: int | None = None) -> bytes:
        out = bytearray()
        for e in entries:
            m = e["method"] if method is None else method
            usize = e["usize"] if m == e["method"] else e["csize"]
            out += _CENTRAL.pack(
                0x02014B50,
                20,
                20,
                0,
                m,
                0,
                0,
                e["crc"],
                e["csize"],
                usize,
                len(e["name"]),
                0,
                0,
                0,
                0,
                0,
                e["offset"] - shift,
            )
            out += e["name"]
        return bytes(out)

    def finish(self, directories: list[bytes], count: int, named: int = 0) -> bytes:
        """The archive: body, then ``directories``; the end record points at ``directories[named]`` and
        gives the size of the last one."""
        offsets, data = [], bytearray(self.body)
        for directory in directories:
            offsets.append(len(data))
            data += directory
        return bytes(
            data + _END.pack(0x06054B50, 0, 0, count, count, len(directories[-1]), offsets[named], 0)
        )


def _deflated_pickle(size: int) -> tuple[bytes, int, int]:
    """A pickle of one ``size``-byte string, deflated in chunks: (deflated bytes, its CRC, its length)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [pickle.PROTO + b"\x02" + pickle.BINUNICODE + struct.pack("<I", size)]
    parts += [b"a" * min(1 << 20, size - start) for start in range(0, size, 1 << 20)] + [pickle.STOP]
    deflated, crc = bytearray(), 0
    for part in parts:
        deflated += compressor.compress(part)
        crc = zlib.crc32(part, crc)
    return bytes(deflated + compressor.flush()), crc, sum(map(len, parts))


def two_directories(path: Path, inflated_mb: int = 64) -> Path:
    """``data.pkl`` is a string of ``inflated_mb`` MB, deflated to kilobytes; see the module docstring."""
    deflated, crc, size = _deflated_pickle(inflated_mb << 20)
    records = honest_records({})
    writer = ZipWriter()
    directory_size = sum(_CENTRAL.size + len(name) for name in records)
    writer.add("archive/padding", b"\0" * directory_size)  # Python's view of the archive starts after it
    entries = [
        writer.add(name, deflated, 8, size, crc) if name.endswith("data.pkl") else writer.add(name, data)
        for name, data in records.items()
    ]
    torch_view = writer.directory(entries)
    python_view = writer.directory(entries, shift=len(torch_view), method=0)
    path.write_bytes(writer.finish([torch_view, python_view], len(entries)))
    return path


def overlapping_records(path: Path, count: int = 64, storage_mb: int = 1) -> Path:
    """``count`` names for one stored record of ``storage_mb`` MB, all loaded; see the module docstring."""
    numel = (storage_mb << 20) // 4
    ops = bytearray(pickle.PROTO + b"\x02" + pickle.EMPTY_LIST + pickle.MARK)
    for key in range(count):
        ops += b"ctorch._utils\n_rebuild_tensor_v2\n" + pickle.MARK + pickle.MARK
        ops += pickle.BINUNICODE + struct.pack("<I", 7) + b"storage" + b"ctorch\nFloatStorage\n"
        for text in (str(key), "cpu"):
            ops += pickle.BINUNICODE + struct.pack("<I", len(text)) + text.encode()
        ops += pickle.BININT + struct.pack("<i", numel) + pickle.TUPLE + pickle.BINPERSID
        ops += pickle.BININT1 + b"\0" + pickle.BININT + struct.pack("<i", numel) + pickle.TUPLE1
        ops += pickle.BININT1 + b"\1" + pickle.TUPLE1 + pickle.NEWFALSE + b"ccollections\nOrderedDict\n"
        ops += pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE + pickle.REDUCE
    ops += pickle.APPENDS + pickle.STOP
    records = honest_records({})
    records["archive/data.pkl"] = bytes(ops)
    writer = ZipWriter()
    entries = [writer.add(name, data) for name, data in records.items()]
    shared = writer.add("archive/data/0", b"\0" * (numel * 4))
    entries += [dict(shared, name=f"archive/data/{key}".encode()) for key in range(count)]
    path.write_bytes(writer.finish([writer.directory(entries)], len(entries)))
    return path
