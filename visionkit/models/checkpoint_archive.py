"""Which format a checkpoint file is in, and whether a zip checkpoint is laid out as ``torch.save`` writes it.

``torch.load`` reads a zip checkpoint with miniz, which finds the archive's end record by scanning back
from the end of the file and believes the central directory that record points to. Python's ``zipfile``
finds another one in a crafted file (it reads the directory just before the end record), so asking it
whether records are compressed answers for an archive torch never reads. :func:`check_zip_layout`
therefore walks the whole file as ``torch.save`` writes it: local records back to back from byte 0,
each stored (never compressed) and followed by its data (and data descriptor), then the central
directory, the zip64 end records and the end record as the file's last 22 bytes. Every byte belongs to
one record, so records cannot overlap (several names for one 4 MB span made 1.9 GB), and their data
together is at most the file's size. Then torch's own reader is asked where each record's data starts
and how long it is; any disagreement is refused.
"""

from __future__ import annotations

import struct
import tarfile
from typing import Any, NamedTuple

import torch

from .untrusted_text import shown

_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_END64 = struct.Struct("<IQHHIIQQQQ")
_LOCATOR64 = struct.Struct("<IIQI")
_LOCAL_SIG, _CENTRAL_SIG, _END_SIG = 0x04034B50, 0x02014B50, 0x06054B50
_END64_SIG, _LOCATOR64_SIG, _DESCRIPTOR_SIG = 0x06064B50, 0x07064B50, 0x08074B50
_MAX32, _MAX16 = 0xFFFFFFFF, 0xFFFF
_DATA_DESCRIPTOR_FLAG, _UTF8_FLAG = 0x0008, 0x0800


class ArchiveLayoutError(ValueError):
    """A zip checkpoint that is not laid out as torch.save writes one."""


class TruncatedArchiveError(ArchiveLayoutError):
    """A zip checkpoint that ends early: no end record, or a record past the end of the file."""


class TorchScriptArchiveError(ArchiveLayoutError):
    """A TorchScript archive (``torch.jit.save``): ``torch.load`` would run its code."""


class Record(NamedTuple):
    name: str
    header_offset: int
    data_offset: int
    size: int
    crc: int
    flags: int
    compressed: bool


def _read_at(file: Any, offset: int, length: int) -> bytes:
    file.seek(offset)
    data = file.read(length)
    if len(data) != length:
        raise TruncatedArchiveError(f"it ends inside a zip record (at byte {offset})")
    return data


def _zip64_values(extra: bytes, values: list[int]) -> list[int]:
    """Replace the 0xFFFFFFFF among (size, compressed size, offset) from the zip64 extra field, as miniz."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, at)
        if kind == 1:
            field, out = extra[at + 4 : at + 4 + length], []
            for value in values:
                if value == _MAX32:
                    if len(field) < 8:
                        raise ArchiveLayoutError("its zip64 extra field is short")
                    value, field = struct.unpack_from("<Q", field)[0], field[8:]
                out.append(value)
            return out
        at += 4 + length
    if _MAX32 in values:
        raise ArchiveLayoutError("a record's size needs a zip64 field it does not have")
    return values


def _end_of_directory(file: Any, size: int) -> tuple[int, int, int, int]:
    """(number of records, directory offset, directory size, where the directory must end)."""
    if size < _END.size:
        raise TruncatedArchiveError("it is too short for a zip archive")
    sig, disk, cd_disk, on_disk, total, cd_size, cd_offset, comment = _END.unpack(
        _read_at(file, size - _END.size, _END.size)
    )
    if sig != _END_SIG:
        raise TruncatedArchiveError("it does not end with a zip end record")
    if comment or disk or cd_disk or on_disk != total:
        raise ArchiveLayoutError("its zip end record has a comment or several disks")
    end = size - _END.size
    if end >= _LOCATOR64.size and _read_at(file, end - _LOCATOR64.size, 4) == struct.pack(
        "<I", _LOCATOR64_SIG
    ):
        _, _, end64_offset, disks = _LOCATOR64.unpack(_read_at(file, end - _LOCATOR64.size, _LOCATOR64.size))
        end = end - _LOCATOR64.size - _END64.size
        if disks != 1 or end64_offset != end or end < 0:
            raise ArchiveLayoutError("its zip64 end record is not where torch.save puts it")
        fields = _END64.unpack(_read_at(file, end, _END64.size))
        if (
            fields[0] != _END64_SIG
            or fields[1] != _END64.size - 12
            or fields[4]
            or fields[5]
            or fields[6] != fields[7]
        ):
            raise ArchiveLayoutError("its zip64 end record is malformed")
        for short, long in ((total, fields[7]), (cd_size, fields[8]), (cd_offset, fields[9])):
            if short not in (long, _MAX16 if short == total else _MAX32):
                raise ArchiveLayoutError("its two end records disagree")
        total, cd_size, cd_offset = fields[7], fields[8], fields[9]
    if cd_offset + cd_size != end:
        raise ArchiveLayoutError("its central directory does not end at its end record")
    return total, cd_offset, cd_size, end


def _central_directory(file: Any, count: int, offset: int, size: int) -> list[Record]:
    directory = _read_at(file, offset, size)
    records, at = [], 0
    for _ in range(count):
        if at + _CENTRAL.size > len(directory):
            raise ArchiveLayoutError("its central directory is short")
        (sig, _, _, flags, method, _, _, crc, csize, usize, nlen, elen, clen, disk, _, _, header) = (
            _CENTRAL.unpack_from(directory, at)
        )
        name_bytes = directory[at + _CENTRAL.size : at + _CENTRAL.size + nlen]
        extra = directory[at + _CENTRAL.size + nlen : at + _CENTRAL.size + nlen + elen]
        at += _CENTRAL.size + nlen + elen + clen
        name = name_bytes.decode("utf-8" if flags & _UTF8_FLAG else "cp437")
        usize, csize, header = _zip64_values(extra, [usize, csize, header])
        if sig != _CENTRAL_SIG or disk not in (0, _MAX16):
            raise ArchiveLayoutError(f"its central directory entry {shown(name)} is malformed")
        if flags & ~(_DATA_DESCRIPTOR_FLAG | _UTF8_FLAG):
            raise ArchiveLayoutError(f"its record {shown(name)} has flags {flags:#x} (encrypted or patched)")
        records.append(Record(name, header, -1, usize, crc, flags, method != 0 or csize != usize))
    if at != len(directory):
        raise ArchiveLayoutError("its central directory holds more than its records")
    return records


def _descriptor_length(file: Any, record: Record, at: int) -> int:
    """Bytes of the data descriptor at ``at`` (with or without signature, 32- or 64-bit sizes)."""
    head = _read_at(file, at, 4) == struct.pack("<I", _DESCRIPTOR_SIG)
    start = at + 4 * head
    for fmt in ("<III", "<IQQ"):
        fields = struct.unpack(fmt, _read_at(file, start, struct.calcsize(fmt)))
        if fields == (record.crc, record.size, record.size):
            return 4 * head + struct.calcsize(fmt)
    raise ArchiveLayoutError(f"the data descriptor of {shown(record.name)} disagrees with its directory")


def _walk_records(file: Any, records: list[Record], directory_offset: int) -> list[Record]:
    """Check that the records lie back to back from byte 0 to the directory; return their data offsets."""
    placed, at = [], 0
    for record in records:
        if record.header_offset != at:
            raise ArchiveLayoutError(f"its record {shown(record.name)} is not where the one before it ends")
        fields = _LOCAL.unpack(_read_at(file, at, _LOCAL.size))
        sig, _, flags, method, _, _, crc, csize, usize, nlen, elen = fields
        name = _read_at(file, at + _LOCAL.size, nlen)
        if (
            sig != _LOCAL_SIG
            or method != 0
            or flags != record.flags
            or name != record.name.encode("utf-8" if flags & _UTF8_FLAG else "cp437")
        ):
            raise ArchiveLayoutError(f"the local header of {shown(record.name)} disagrees with its directory")
        data = at + _LOCAL.size + nlen + elen
        at = data + record.size
        if flags & _DATA_DESCRIPTOR_FLAG:
            at += _descriptor_length(file, record, at)
        elif (crc, csize, usize) != (record.crc, record.size, record.size) and _MAX32 not in (csize, usize):
            raise ArchiveLayoutError(f"the local header of {shown(record.name)} disagrees with its directory")
        if at > directory_offset:
            raise ArchiveLayoutError(f"its record {shown(record.name)} runs into the central directory")
        placed.append(record._replace(data_offset=data))
    if at != directory_offset:
        raise ArchiveLayoutError("it has bytes between its last record and its central directory")
    return placed


def _agrees_with_torch(file: Any, records: list[Record]) -> list[str]:
    """Ask torch's own zip reader (miniz) where each record's data is; it must be where the walk found it."""
    file.seek(0)
    reader = torch._C.PyTorchFileReader(file)
    prefix = records[0].name.split("/", 1)[0] + "/"
    ours = {r.name[len(prefix) :]: r for r in records}
    if any(not r.name.startswith(prefix) for r in records) or set(reader.get_all_records()) != set(ours):
        raise ArchiveLayoutError("torch's zip reader sees other records than its layout holds")
    for name, record in ours.items():
        seen = (
            reader.get_record_header_offset(name),
            reader.get_record_offset(name),
            reader.get_record_size(name),
        )
        if seen != (record.header_offset, record.data_offset, record.size):
            raise ArchiveLayoutError(f"torch's zip reader places {shown(name)} elsewhere than its layout")
    return sorted(ours)


def check_zip_layout(file: Any) -> list[str]:
    """The record names (as torch names them: ``data.pkl``, ``data/0``...) of a zip checkpoint laid out as
    ``torch.save`` writes one (see the module docstring); else :class:`ArchiveLayoutError` saying what
    differs. ``file`` is left at offset 0."""
    try:
        size = file.seek(0, 2)
        count, offset, length, _ = _end_of_directory(file, size)
        records = _central_directory(file, count, offset, length)
        names = [r.name.split("/", 1)[-1] for r in records]
        if "constants.pkl" in names:  # what torch.load takes for TorchScript (and hands to torch.jit.load)
            raise TorchScriptArchiveError("it is a TorchScript archive")
        compressed = [r.name for r in records if r.compressed]
        if compressed:
            raise ArchiveLayoutError(
                f"its records {shown(compressed, 80)} are compressed, which torch.save never does (a "
                "compressed record can expand far beyond the file's size)"
            )
        if not records or len(set(names)) != len(records):
            raise ArchiveLayoutError("it has no records, or two records of one name")
        records = _walk_records(file, sorted(records, key=lambda r: r.header_offset), offset)
        return _agrees_with_torch(file, records)
    except (struct.error, UnicodeDecodeError) as error:
        raise ArchiveLayoutError(f"a zip structure is malformed ({type(error).__name__})") from None
    finally:
        file.seek(0)


def is_legacy_tar(file: Any) -> bool:
    """Whether ``file`` is the .tar checkpoint format of PyTorch before 0.4 (``file`` left at offset 0)."""
    try:  # torch.load extracts a tar checkpoint's members to disk, links included
        tarfile.open(fileobj=file, mode="r:").close()
        return True
    except tarfile.TarError:
        return False
    finally:
        file.seek(0)
