"""What a checkpoint's pickle may construct: the globals, calls and ``BUILD`` states visionkit answers.

The unpickler (:mod:`.checkpoint_unpickler`) looks every ``GLOBAL`` up in :data:`ALLOWED` and calls only
what is in :data:`CALLABLE`; each entry checks its arguments' types before anything runs:

- containers and values: ``OrderedDict``, ``set``, ``frozenset``, empty ``bytes``, ``complex``,
  ``torch.Size``, ``torch.device`` and torch dtypes;
- tensors: torch's ``_rebuild_tensor_v2`` / ``_rebuild_parameter``, refused when they carry hooks or a
  geometry ``torch.save`` does not write for an ordinary tensor (:func:`check_geometry`);
- numpy numeric arrays, scalars and dtypes (never object arrays), and ``_codecs.encode`` for latin-1
  only (how protocol 2 writes ``bytes``);
- mmengine's ``ConfigDict``, returned as the plain ``dict`` it was pickled from (a ``ConfigDict`` answers
  every attribute, ``__array_interface__`` included), and ``HistoryBuffer``, filled by its own constructor
  from checked arrays. Its statistics methods are pickled as ``getattr(HistoryBuffer, 'mean')``; the
  only ``getattr`` here answers exactly those names on that class, with the name.

:func:`build` sets an object's state (``BUILD``) only on numpy arrays and dtypes, a state dict's
``OrderedDict`` (``_metadata``) and ``HistoryBuffer``, each checked for the expected shape.
"""

from __future__ import annotations

import _codecs
import collections
import pickle
import re
from typing import Any

import numpy as np
import torch

from .untrusted_text import shown

MAX_DIMS = 32  # torch.save writes what a tensor has; ordinary tensors have a handful of dimensions
# A tensor without elements may still claim sizes; iterating over them costs time, so they are bounded too.
MAX_EMPTY_EXTENT = 1 << 20
_QUANTIZED = {torch.qint8, torch.quint8, torch.qint32, torch.quint4x2, torch.quint2x4}


class RefusedPickleError(pickle.UnpicklingError):
    """A checkpoint asked for something that is not plain data, or for more than its size allows."""


def refuse(what: str) -> RefusedPickleError:
    return RefusedPickleError(f"refused {what}: not a plain-data type visionkit loads")


def _is_int(value: Any) -> bool:
    return type(value) is int


def pickled_name(obj: Any) -> str:
    """How a message names ``obj``: the name a pickle gave it (``OrderedDict``), else its type's name."""
    if id(obj) in _PICKLED_NAMES:
        return _PICKLED_NAMES[id(obj)]
    name = obj.__name__ if isinstance(obj, type) else type(obj).__name__
    return shown(name, 40)[1:-1]


def check_geometry(storage_numel: int, offset: Any, size: Any, stride: Any) -> None:
    """Refuse a tensor view that ``torch.save`` does not write for an ordinary tensor.

    Sizes, strides and the offset are non-negative ints, one stride per size, at most :data:`MAX_DIMS`;
    elements never overlap (no stride 0 on a dimension of more than one element: an expanded tensor
    densified by an optimizer's cast would ask for its full size) and all lie inside the storage. So a
    tensor never has more elements than its storage, which the file holds.
    """
    if not (isinstance(size, tuple) and isinstance(stride, tuple) and _is_int(offset) and offset >= 0):
        raise refuse("a tensor whose size, stride or offset is not ints")
    if len(size) != len(stride) or len(size) > MAX_DIMS:
        raise refuse(f"a tensor of {len(size)} sizes and {len(stride)} strides (at most {MAX_DIMS})")
    if not all(_is_int(n) and n >= 0 for n in size) or not all(_is_int(s) and s >= 0 for s in stride):
        raise refuse("a tensor with negative or non-integer sizes or strides")
    if 0 in size:
        extent = 1
        for n in size:
            extent *= max(n, 1)
        if extent > max(storage_numel, MAX_EMPTY_EXTENT):
            raise refuse(f"an empty tensor of size {shown(size)} (its other sizes exceed its storage)")
        return
    needed = 1  # each dimension, by increasing stride, must step over everything the smaller ones span
    for n, s in sorted(((n, s) for n, s in zip(size, stride, strict=True) if n > 1), key=lambda d: d[1]):
        if s < needed:
            raise refuse(f"a tensor with overlapping elements (size {shown(size)}, stride {shown(stride)})")
        needed = s * n
    last = offset + sum((n - 1) * s for n, s in zip(size, stride, strict=True))
    if last >= storage_numel:
        raise refuse(f"a tensor reaching element {last} of a storage of {storage_numel}")


def _no_hooks(hooks: Any) -> None:
    if not isinstance(hooks, dict) or hooks:  # a tensor pickled with hooks would carry callables
        raise refuse("a tensor with backward hooks")


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
    if type(storage) is not torch.storage.TypedStorage:
        raise refuse(f"a tensor on a {pickled_name(type(storage))} (only storages of the file)")
    if storage.dtype in _QUANTIZED:  # without its quantizer torch fails on it with INTERNAL ASSERT FAILED
        raise refuse(f"a {storage.dtype} tensor outside torch's quantized-tensor format")
    _no_hooks(hooks)
    if type(requires_grad) is not bool or (metadata not in (None, {}) and not _conj_or_neg(metadata)):
        raise refuse("tensor flags other than requires_grad and the conj / neg bits")
    check_geometry(storage._size(), offset, size, stride)
    return torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, {}, metadata)


def _conj_or_neg(metadata: Any) -> bool:
    return type(metadata) is dict and all(
        k in ("conj", "neg") and type(v) is bool for k, v in metadata.items()
    )


def _rebuild_parameter(data, requires_grad, hooks):
    _no_hooks(hooks)
    if type(data) is not torch.Tensor or type(requires_grad) is not bool:
        raise refuse(f"a Parameter of {pickled_name(type(data))}")
    return torch._utils._rebuild_parameter(data, requires_grad, collections.OrderedDict())


def _encode(text: Any, encoding: Any) -> bytes:
    if type(text) is not str or encoding != "latin1":
        raise refuse(f"_codecs.encode with encoding {shown(encoding)}")
    return _codecs.encode(text, "latin1")


def _bytes(*args: Any) -> bytes:
    if args:
        raise refuse("bytes() with arguments")
    return b""


def _ordered_dict(*args: Any) -> collections.OrderedDict:
    if args:  # pickle writes OrderedDict() and then its items
        raise refuse("OrderedDict() with arguments")
    return collections.OrderedDict()


def _items(kind: type, args: tuple) -> Any:
    if len(args) > 1 or (args and type(args[0]) is not list):
        raise refuse(f"{kind.__name__}() of anything but a list")
    return kind(*args)


def _set(*args: Any) -> set:
    return _items(set, args)


def _frozenset(*args: Any) -> frozenset:
    return _items(frozenset, args)


def _complex(*args: Any) -> complex:
    if len(args) > 2 or not all(type(a) in (int, float) for a in args):
        raise refuse("complex() of anything but two numbers")
    return complex(*args)


def _size(*args: Any) -> torch.Size:
    if len(args) != 1 or type(args[0]) not in (list, tuple) or not all(_is_int(n) for n in args[0]):
        raise refuse("torch.Size of anything but a list of ints")
    return torch.Size(args[0])


def _device(*args: Any) -> torch.device:
    if not (
        1 <= len(args) <= 2 and type(args[0]) is str and len(args[0]) <= 32 and all(map(_is_int, args[1:]))
    ):
        raise refuse(f"torch.device{shown(args)}")
    return torch.device(*args)


_MULTIARRAY = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
_SIMPLE_DTYPE = re.compile(r"^[<>|=]?(\?|b1|[iuf][1248]|f16|c8|c16|c32)$")


def _dtype(spec: Any, align: Any = False, copy: Any = True) -> np.dtype:
    if type(spec) is not str or not _SIMPLE_DTYPE.match(spec) or type(align) is not bool:
        raise refuse(f"numpy dtype {shown(spec)} (only numeric and bool dtypes load)")
    # Always a copy: BUILD then sets this dtype's state, never that of numpy's shared float64 & co.
    return np.dtype(spec, False, True)


def _reconstruct(subtype: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise refuse(f"numpy array subtype {pickled_name(subtype)}")
    return np.ndarray.__new__(np.ndarray, (0,), "b")


def _scalar(dtype: Any, data: Any = None) -> Any:
    if (
        not isinstance(dtype, np.dtype)
        or dtype.hasobject
        or type(data) is not bytes
        or len(data) != dtype.itemsize
    ):
        raise refuse("a numpy scalar that is not numeric")
    return _MULTIARRAY.scalar(dtype, data)


def _config_dict(data: Any) -> dict:
    if type(data) is not dict:
        raise refuse(f"ConfigDict from {pickled_name(type(data))}")
    return data  # the plain dict it was pickled from: a ConfigDict answers any attribute name


class HistoryBufferClass:
    """What ``mmengine.logging.history_buffer.HistoryBuffer`` names while unpickling: ``NEWOBJ`` of it
    makes an empty buffer that ``BUILD`` fills (:func:`build`), and ``getattr`` of it a statistic's name."""


_STATISTICS = frozenset({"min", "max", "current", "mean", "data"})


def _statistic(owner: Any, name: Any) -> str:
    """The only ``getattr``: HistoryBuffer's statistics methods, by name (they are rebuilt, not loaded)."""
    if owner is not HistoryBufferClass or type(name) is not str or name not in _STATISTICS:
        raise refuse(f"getattr({pickled_name(owner)}, {shown(name)})")
    return name


def new_history_buffer() -> Any:
    from mmengine.logging import HistoryBuffer

    return HistoryBuffer()


def _numeric_vector(array: Any) -> bool:
    return type(array) is np.ndarray and array.ndim == 1 and array.dtype.kind in "biuf"


def _build_history(buffer: Any, state: Any) -> None:
    if type(state) is not dict:
        raise refuse("HistoryBuffer state that is not a dict")
    logs, counts = state.get("_log_history"), state.get("_count_history")
    max_length = state.get("max_length", 1000000)
    if not (_numeric_vector(logs) and _numeric_vector(counts) and len(logs) == len(counts)):
        raise refuse("HistoryBuffer state with other than two numeric vectors of one length")
    if not (_is_int(max_length) and max_length >= 1):
        raise refuse(f"HistoryBuffer max_length {shown(max_length)}")
    for key in ("statistics_methods", "_statistics_methods"):
        methods = state.get(key, {})
        if type(methods) is not dict or not all(type(v) is str for v in methods.values()):
            raise refuse("HistoryBuffer statistics other than its own methods")
    type(buffer).__init__(buffer, logs, counts, max_length)


def _build_array(array: np.ndarray, state: Any) -> None:
    if not (type(state) is tuple and len(state) == 5 and isinstance(state[2], np.dtype)):
        raise refuse("numpy array state of an unknown form")
    version, shape, dtype, fortran, data = state
    if dtype.hasobject or type(data) is not bytes or not _is_int(version) or type(fortran) is not bool:
        raise refuse("a numpy object array")
    if type(shape) is not tuple or len(shape) > MAX_DIMS or not all(_is_int(n) and n >= 0 for n in shape):
        raise refuse(f"a numpy array of shape {shown(shape)}")
    count = 1
    for n in shape:
        count *= n
    if count * dtype.itemsize != len(data):
        raise refuse(f"a numpy array of shape {shown(shape)} with {len(data)} bytes of data")
    array.__setstate__(state)


def _build_dtype(dtype: np.dtype, state: Any) -> None:
    if not (type(state) is tuple and len(state) == 8 and state[2:5] == (None, None, None)):
        raise refuse("a structured or sub-array numpy dtype")
    # Only the byte order may change: size, alignment and flags (1 = "holds objects") stay numpy's own,
    # also for an array already built with this dtype.
    own = dtype.__reduce__()[2]
    if state[0] not in (3, 4) or state[1] not in ("<", ">", "|", "=") or state[5:] != own[5:]:
        raise refuse(f"numpy dtype state {shown(state)} (only the byte order of a numeric dtype may be set)")
    dtype.__setstate__(state)


def _module_versions(metadata: Any) -> bool:
    """A state dict's ``_metadata``: module name -> ``{'version': int}`` (what ``nn.Module`` writes)."""
    return type(metadata) in (dict, collections.OrderedDict) and all(
        type(name) is str
        and type(entry) is dict
        and all(type(k) is str and (v is None or type(v) in (int, bool, str)) for k, v in entry.items())
        for name, entry in metadata.items()
    )


def _build_ordered_dict(mapping: collections.OrderedDict, state: Any) -> None:
    if not (type(state) is dict and set(state) <= {"_metadata"}):
        raise refuse("OrderedDict attributes other than a state dict's _metadata")
    if not _module_versions(state.get("_metadata", {})):
        raise refuse("a state dict _metadata other than module versions")
    mapping.__dict__.update(state)


def build(inst: Any, state: Any) -> int:
    """``BUILD``: set ``inst``'s state from ``state`` where ``inst`` is a type that may have one.

    Returns the bytes of array data it stored (for the unpickler's memory budget).
    """
    from mmengine.logging import HistoryBuffer

    kind = type(inst)
    if kind is HistoryBuffer:
        _build_history(inst, state)
        return inst._log_history.nbytes + inst._count_history.nbytes
    if kind is np.ndarray:
        _build_array(inst, state)
        return inst.nbytes
    if kind is np.dtype or isinstance(inst, np.dtype):
        _build_dtype(inst, state)
    elif kind is collections.OrderedDict:
        _build_ordered_dict(inst, state)
    else:
        raise refuse(f"setting the state of {pickled_name(kind)}")
    return 0


def _torch_values() -> dict[tuple[str, str], Any]:
    dtypes = {("torch", name): v for name, v in vars(torch).items() if isinstance(v, torch.dtype)}
    return {**dtypes, ("torch", "Size"): _size, ("torch", "device"): _device}


def _allowed() -> dict[tuple[str, str], Any]:
    allowed: dict[tuple[str, str], Any] = {
        ("collections", "OrderedDict"): _ordered_dict,
        ("builtins", "set"): _set,
        ("builtins", "frozenset"): _frozenset,
        ("builtins", "complex"): _complex,
        ("builtins", "bytes"): _bytes,
        ("builtins", "getattr"): _statistic,
        ("_codecs", "encode"): _encode,
        ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): _dtype,
        ("mmengine.config.config", "ConfigDict"): _config_dict,
        ("mmengine.logging.history_buffer", "HistoryBuffer"): HistoryBufferClass,
        **_torch_values(),
    }
    for multiarray in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[multiarray, "_reconstruct"] = _reconstruct
        allowed[multiarray, "scalar"] = _scalar
    return allowed


ALLOWED: dict[tuple[str, str], Any] = _allowed()
_PICKLED_NAMES = {id(v): name for (_, name), v in ALLOWED.items() if not isinstance(v, torch.dtype)}
# What REDUCE may call, by id (never by equality: the object on the stack could be anything). The other
# entries are values: dtypes, np.ndarray as _reconstruct's argument, HistoryBuffer for NEWOBJ and getattr.
CALLABLE = frozenset(
    id(v) for v in ALLOWED.values() if v is not np.ndarray and v is not HistoryBufferClass
) - {id(v) for v in ALLOWED.values() if isinstance(v, torch.dtype)}
# Calls that hash the items of their list argument (the unpickler charges and checks that work first).
HASHES_ITEMS = frozenset({id(_set), id(_frozenset)})
