"""Which checkpoint format a file holds, told by its bytes (never by its name), and one reader per format.

:func:`identify` looks at the first 512 and the last 16 bytes; :data:`FORMATS` lists each family in the
order it is tried, with its reader, or none for families visionkit recognises but does not read (so the
error can say what the file looks like: an ONNX model given as a checkpoint, a ``.tgz`` still packed, an
HTML page where a download failed). Readers return what the file holds, tensors as ``torch.Tensor``:

=====================================  ==========================================================
family                                 reader
=====================================  ==========================================================
PyTorch zip checkpoint (``torch.save``)  torch's zip reader with visionkit's unpickler, after the
                                       layout check of :mod:`.checkpoint_archive`
PyTorch legacy checkpoint (0.4-1.5)    :mod:`.checkpoint_legacy`
safetensors                            :mod:`.checkpoint_safetensors` (the ``safetensors`` package)
plain pickle (PaddlePaddle ``.pdparams``)  visionkit's unpickler; numpy arrays become tensors and
                                       ``paddle.save``'s name table is dropped
=====================================  ==========================================================

Every reader keeps the guarantees of docs/trust_model.md: no code runs, the cost is bounded by the file's
size. A format's reader raises what :func:`visionkit.models.checkpoint.read_checkpoint` turns into an error
naming the file.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import numpy as np
import torch

from . import checkpoint_unpickler
from .checkpoint_archive import check_zip_layout
from .checkpoint_legacy import MAGIC_NUMBER, load_legacy
from .checkpoint_safetensors import is_safetensors, read_safetensors
from .untrusted_text import printable

_HEAD, _TAIL = 512, 16
# A legacy torch file starts with the pickle of its magic number: PROTO 2, LONG1 of 10 bytes.
_LEGACY_START = b"\x80\x02\x8a\x0a" + MAGIC_NUMBER.to_bytes(10, "little")
# The footer of a LevelDB table, which a TF checkpoint's .index (a TensorBundle) is.
_TF_TABLE_MAGIC = (0xDB4775248B80FB57).to_bytes(8, "little")
_ONNX_SECOND_FIELDS = frozenset(b"\x12\x1a\x22\x28\x32\x3a\x42")  # ModelProto fields after ir_version
# paddle.save / fluid.save_dygraph add the table of Paddle's own parameter names (unused here).
PADDLE_NAME_TABLE = "StructuredToParameterName@@"


class CheckpointFormatError(ValueError):
    """A file is not in a format visionkit reads as a checkpoint; the message says what it looks like."""


@dataclass(frozen=True)
class Signature:
    """What identifies a file: its first bytes, its last bytes and its size."""

    head: bytes
    tail: bytes
    size: int


@dataclass(frozen=True)
class CheckpointFormat:
    """A family of files: ``name`` (what a message calls it), ``matches`` (by :class:`Signature`), and
    ``read(file, map_location) -> object`` or ``None`` with ``advice`` for families that are not read."""

    name: str
    matches: Callable[[Signature], bool]
    read: Callable[[BinaryIO, Any], Any] | None = None
    advice: str = ""


def read_torch_zip(file: BinaryIO, map_location: Any) -> Any:
    """A zip checkpoint laid out as ``torch.save`` writes it, through torch's zip reader and visionkit's
    unpickler (:mod:`.checkpoint_archive` raises on any other layout, and on TorchScript archives)."""
    check_zip_layout(file)
    # torch.load's own zip path, minus its weights_only switch: TORCH_FORCE_WEIGHTS_ONLY_LOAD=1 would make
    # torch.load refuse any pickle_module, and with it every checkpoint.
    with torch.serialization._open_zipfile_reader(file) as archive:
        return torch.serialization._load(archive, map_location, checkpoint_unpickler, encoding="utf-8")


def read_legacy(file: BinaryIO, map_location: Any) -> Any:
    """A legacy checkpoint (PyTorch 0.4-1.5), tensors on the CPU."""
    return load_legacy(file)


def numpy_to_tensors(obj: Any) -> Any:
    """A pickled state dict of numpy arrays (``paddle.save``'s) as one of tensors, without Paddle's name
    table; anything else as it is."""
    if type(obj) is not dict:
        return obj
    return {
        key: torch.from_numpy(value) if type(value) is np.ndarray else value
        for key, value in obj.items()
        if key != PADDLE_NAME_TABLE
    }


def read_plain_pickle(file: BinaryIO, map_location: Any) -> Any:
    """A pickle of plain data and numpy arrays (PaddlePaddle's ``.pdparams``), numpy arrays as CPU tensors."""
    return numpy_to_tensors(checkpoint_unpickler.load(file, encoding="utf-8"))


def _is_onnx(sig: Signature) -> bool:
    """ModelProto: field 1 (ir_version, a small varint) first, then another of its fields."""
    head = sig.head
    return len(head) > 3 and head[0] == 0x08 and 1 <= head[1] <= 32 and head[2] in _ONNX_SECOND_FIELDS


def _is_plain_pickle(sig: Signature) -> bool:
    """A pickle of protocol 2 to 5 (``PROTO`` first); protocols 0 and 1 are not read."""
    return len(sig.head) > 1 and sig.head[0] == pickle.PROTO[0] and 2 <= sig.head[1] <= 5


def _is_html(sig: Signature) -> bool:
    return sig.head.lstrip()[:14].lower().startswith((b"<!doctype html", b"<html", b"<?xml"))


FORMATS: tuple[CheckpointFormat, ...] = (
    CheckpointFormat(
        "a PyTorch zip checkpoint", lambda s: s.head[:4] in (b"PK\x03\x04", b"PK\x05\x06"), read_torch_zip
    ),
    CheckpointFormat("a legacy PyTorch checkpoint", lambda s: s.head.startswith(_LEGACY_START), read_legacy),
    CheckpointFormat("a safetensors file", lambda s: is_safetensors(s.head, s.size), read_safetensors),
    CheckpointFormat("a plain pickle", _is_plain_pickle, read_plain_pickle),
    CheckpointFormat(
        "a tar archive",
        lambda s: s.head[257:262] == b"ustar",
        advice="the .tar format of PyTorch before 0.4 is not loaded (torch.load extracts its members to "
        "disk, symbolic links included; torch's weights-only loader refuses it too); an archive of "
        "checkpoint files must be extracted first",
    ),
    CheckpointFormat(
        "a gzip-compressed file (a .tar.gz or .tgz archive?)",
        lambda s: s.head[:2] == b"\x1f\x8b",
        advice="extract it and give the checkpoint inside",
    ),
    CheckpointFormat(
        "a TensorFlow checkpoint index (.ckpt.index, a TensorBundle table)",
        lambda s: s.tail[-8:] == _TF_TABLE_MAGIC,
        advice="visionkit reads a TF checkpoint by TF's names: give its prefix or PREFIX.index, with the "
        "PREFIX.data-* shards beside it, or the release's .tgz",
    ),
    CheckpointFormat(
        "an ONNX model",
        _is_onnx,
        advice="an exported model is run, not loaded: tools/test.py or tools/infer.py with --runtime",
    ),
    CheckpointFormat(
        "an ExecuTorch program (.pte)",
        lambda s: s.head[4:8] == b"ET12",
        advice="an exported model is run, not loaded: tools/test.py or tools/infer.py --runtime executorch",
    ),
    CheckpointFormat("an HDF5 file (Keras .h5?)", lambda s: s.head[:8] == b"\x89HDF\r\n\x1a\n"),
    CheckpointFormat("a NumPy .npy array", lambda s: s.head[:6] == b"\x93NUMPY"),
    CheckpointFormat(
        "an HTML or XML page",
        _is_html,
        advice="a download that returned an error page instead of the file? Check the URL",
    ),
)
READ_FAMILIES = (
    "PyTorch checkpoints (zip or legacy), safetensors, plain pickles of numpy arrays (PaddlePaddle "
    ".pdparams), TF checkpoints by their prefix, .index or .tgz release"
)


def identify(file: BinaryIO) -> CheckpointFormat | None:
    """The first family of :data:`FORMATS` that ``file`` matches (``None`` if none); ``file`` is left at
    offset 0."""
    size = file.seek(0, 2)
    file.seek(max(size - _TAIL, 0))
    tail = file.read(_TAIL)
    file.seek(0)
    sig = Signature(file.read(_HEAD), tail, size)
    file.seek(0)
    return next((family for family in FORMATS if family.matches(sig)), None)


def read_by_format(file: BinaryIO, map_location: Any = "cpu") -> Any:
    """What ``file`` holds, read by its family's reader.

    Raises:
        CheckpointFormatError: the file is of a family visionkit does not read (the message names it), or
            of none it knows (the message shows its first bytes).
    """
    family = identify(file)
    if family is None:
        if file.read(1) == b"":
            raise CheckpointFormatError("the file is empty")
        file.seek(0)
        head = printable(repr(file.read(16)), 80)
        raise CheckpointFormatError(
            f"it is none of the formats visionkit reads ({READ_FAMILIES}); it starts with {head}"
        )
    if family.read is None:
        advice = f": {family.advice}" if family.advice else ""
        raise CheckpointFormatError(f"it looks like {family.name}, not a checkpoint visionkit reads{advice}")
    return family.read(file, map_location)
