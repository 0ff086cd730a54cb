"""A pickle ``Unpickler`` that builds plain data only: what visionkit and mmengine checkpoints hold.

``torch.load(f, pickle_module=checkpoint_unpickler, weights_only=False)`` reads a checkpoint's
``data.pkl`` with :class:`Unpickler` (torch still restores the tensor storages). Everything a pickle
names goes through :meth:`Unpickler.find_class`, which answers from :data:`ALLOWED` only:

- containers and values: ``OrderedDict``, ``set``, ``frozenset``, empty ``bytes``, ``complex``,
  ``torch.Size``, ``torch.device`` and torch dtypes;
- tensors: torch's ``_rebuild_tensor_v2`` / ``_rebuild_parameter``, refused when they carry hooks;
- numpy numeric arrays, scalars and dtypes (never object arrays), and ``_codecs.encode`` for latin-1
  only (how protocol 2 writes ``bytes``);
- mmengine's ``ConfigDict``, rebuilt from its plain dict, and ``HistoryBuffer``, rebuilt by its own
  constructor from the saved arrays. Its statistics methods are pickled as ``getattr(HistoryBuffer,
  'mean')``; the only ``getattr`` here answers exactly those names on that class.

Nothing else can be called, no object's attributes can be reached, ``BUILD`` (setting an object's
state) is accepted only on the few types above, with state of the expected shape, and items are added
only to pickle's own lists, sets and dicts (pickle would otherwise look up ``.extend`` / ``.add`` on any
object, and a ``ConfigDict`` answers such lookups with its contents). Anything else raises
:class:`RefusedPickleError` naming what was asked for.
"""

from __future__ import annotations

import _codecs
import collections
import pickle
import re
from typing import Any, ClassVar

import numpy as np
import torch


class RefusedPickleError(pickle.UnpicklingError):
    """A checkpoint asked for something that is not plain data."""


def _refuse(what: str) -> RefusedPickleError:
    return RefusedPickleError(f"refused {what}: not a plain-data type visionkit loads")


def _no_hooks(hooks: Any) -> None:
    if hooks:  # a tensor pickled with backward hooks would carry callables into the model
        raise _refuse("a tensor with backward hooks")


def _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks, metadata=None):
    _no_hooks(hooks)
    return torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, {}, metadata)


def _rebuild_parameter(data, requires_grad, hooks):
    _no_hooks(hooks)
    if not isinstance(data, torch.Tensor):
        raise _refuse(f"a Parameter of {type(data).__name__}")
    return torch._utils._rebuild_parameter(data, requires_grad, collections.OrderedDict())


def _encode(text: Any, encoding: str) -> bytes:
    if not isinstance(text, str) or encoding != "latin1":
        raise _refuse(f"_codecs.encode with encoding {encoding!r}")
    return _codecs.encode(text, "latin1")


def _bytes(*args: Any) -> bytes:
    if args:
        raise _refuse("bytes() with arguments")
    return b""


_MULTIARRAY = np._core.multiarray if hasattr(np, "_core") else np.core.multiarray
_SIMPLE_DTYPE = re.compile(r"^[<>|=]?(\?|b1|[iuf][1248]|f16|c8|c16|c32)$")


def _dtype(spec: Any, align: Any = False, copy: Any = True) -> np.dtype:
    if not isinstance(spec, str) or not _SIMPLE_DTYPE.match(spec):
        raise _refuse(f"numpy dtype {spec!r} (only numeric and bool dtypes load)")
    # Always a copy: BUILD then sets this dtype's state, never that of numpy's shared float64 & co.
    return np.dtype(spec, False, True)


def _reconstruct(subtype: Any, shape: Any, dtype_code: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise _refuse(f"numpy array subtype {subtype!r}")
    return np.ndarray.__new__(np.ndarray, (0,), "b")


def _scalar(dtype: Any, data: Any = None) -> Any:
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise _refuse("a numpy scalar that is not numeric")
    return _MULTIARRAY.scalar(dtype, data)


def _config_dict(data: Any) -> Any:
    from mmengine.config import ConfigDict

    if not isinstance(data, dict):
        raise _refuse(f"ConfigDict from {type(data).__name__}")
    return ConfigDict(data)


class _HistoryBufferState:
    """Stands in for ``mmengine.logging.HistoryBuffer`` while unpickling; see :func:`_build_history`."""

    __slots__ = ()


_STATISTICS = frozenset({"min", "max", "current", "mean", "data"})


def _statistic(owner: Any, name: Any) -> str:
    """The only ``getattr``: HistoryBuffer's statistics methods, by name (they are rebuilt, not loaded)."""
    if owner is not _HistoryBufferState or name not in _STATISTICS:
        owner_name = getattr(owner, "__name__", type(owner).__name__)
        raise _refuse(f"getattr({owner_name}, {name!r})")
    return name


def _build_history(state: Any) -> Any:
    from mmengine.logging import HistoryBuffer

    if not isinstance(state, dict):
        raise _refuse("HistoryBuffer state that is not a dict")
    logs, counts = state.get("_log_history"), state.get("_count_history")
    max_length = state.get("max_length", 1000000)
    if not (isinstance(logs, np.ndarray) and isinstance(counts, np.ndarray) and isinstance(max_length, int)):
        raise _refuse("HistoryBuffer state with other than numeric arrays and an int max_length")
    methods = state.get("_statistics_methods", {})
    if not isinstance(methods, dict) or not all(isinstance(v, str) for v in methods.values()):
        raise _refuse("HistoryBuffer statistics other than its own methods")
    return HistoryBuffer(logs, counts, max_length)


def _torch_values() -> dict[str, Any]:
    dtypes = {f"torch {name}": v for name, v in vars(torch).items() if isinstance(v, torch.dtype)}
    return {**dtypes, "torch Size": torch.Size, "torch device": torch.device}


def _allowed() -> dict[str, Any]:
    allowed: dict[str, Any] = {
        "collections OrderedDict": collections.OrderedDict,
        "builtins set": set,
        "builtins frozenset": frozenset,
        "builtins complex": complex,
        "builtins bytes": _bytes,
        "builtins getattr": _statistic,
        "_codecs encode": _encode,
        "torch._utils _rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils _rebuild_parameter": _rebuild_parameter,
        "numpy ndarray": np.ndarray,
        "numpy dtype": _dtype,
        "mmengine.config.config ConfigDict": _config_dict,
        "mmengine.logging.history_buffer HistoryBuffer": _HistoryBufferState,
        **_torch_values(),
    }
    for multiarray in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[f"{multiarray} _reconstruct"] = _reconstruct
        allowed[f"{multiarray} scalar"] = _scalar
    return allowed


ALLOWED: dict[str, Any] = _allowed()
# What REDUCE may call; the rest of ALLOWED are values (dtypes, np.ndarray as _reconstruct's argument).
_CALLABLE = frozenset(
    id(v) for k, v in ALLOWED.items() if k not in ("numpy ndarray",) and not isinstance(v, torch.dtype)
) - {id(_HistoryBufferState)}


def _build_array(array: np.ndarray, state: Any) -> None:
    if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[2], np.dtype)):
        raise _refuse("numpy array state of an unknown form")
    if state[2].hasobject or not isinstance(state[4], bytes):
        raise _refuse("a numpy object array")
    array.__setstate__(state)


def _build_dtype(dtype: np.dtype, state: Any) -> None:
    if not (isinstance(state, tuple) and len(state) == 8 and state[2:5] == (None, None, None)):
        raise _refuse("a structured or sub-array numpy dtype")
    # Only the byte order may change: size, alignment and flags (1 = "holds objects") stay numpy's own,
    # also for an array already built with this dtype.
    own = dtype.__reduce__()[2]
    if state[0] not in (3, 4) or state[1] not in ("<", ">", "|", "=") or state[5:] != own[5:]:
        raise _refuse(f"numpy dtype state {state!r} (only the byte order of a numeric dtype may be set)")
    dtype.__setstate__(state)


def _build_ordered_dict(mapping: collections.OrderedDict, state: Any) -> None:
    if not (isinstance(state, dict) and set(state) <= {"_metadata"}):
        raise _refuse("OrderedDict attributes other than a state dict's _metadata")
    mapping.__dict__.update(state)


# What SETITEM(S) may fill: pickle's own dicts and a state dict's OrderedDict. APPEND(S) and ADDITEMS fill
# only lists and sets: on any other object pickle looks up ``.extend`` / ``.add``, which a ConfigDict answers
# from its contents (a stored allow-listed value would be called, bypassing ``load_reduce``).
_MAPPINGS = (dict, collections.OrderedDict)


class Unpickler(pickle._Unpickler):  # the Python implementation: its opcodes can be overridden
    """Unpickles plain data only; see the module docstring for what is allowed."""

    dispatch: ClassVar[dict] = dict(pickle._Unpickler.dispatch)

    def find_class(self, module: str, name: str) -> Any:
        module = {"__builtin__": "builtins"}.get(module, module)
        key = f"{module} {name}"
        if key not in ALLOWED:
            raise _refuse(f"'{module}.{name}'")
        return ALLOWED[key]

    def load_reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if id(func) not in _CALLABLE:
            raise _refuse(f"a call to {getattr(func, '__name__', type(func).__name__)}")
        if not isinstance(args, tuple):
            raise _refuse("a call whose arguments are not a tuple")
        self.stack[-1] = func(*args)

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls is not _HistoryBufferState or args:
            raise _refuse(f"creating {getattr(cls, '__name__', type(cls).__name__)}")
        self.append(_HistoryBufferState())

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is _HistoryBufferState:
            built = _build_history(state)
            self.stack[-1] = built
            # NEWOBJ memoised the stand-in; later references must get the rebuilt buffer.
            for key, value in list(self.memo.items()):
                if value is inst:
                    self.memo[key] = built
        elif type(inst) is np.ndarray:
            _build_array(inst, state)
        elif type(inst) is np.dtype or isinstance(inst, np.dtype):
            _build_dtype(inst, state)
        elif type(inst) is collections.OrderedDict:
            _build_ordered_dict(inst, state)
        else:
            raise _refuse(f"setting the state of {type(inst).__name__}")

    def _target(self, kinds: tuple[type, ...], what: str) -> Any:
        """The object under construction, if it is one of ``kinds`` (never a type that runs lookups)."""
        target = self.stack[-1]
        if type(target) not in kinds:
            raise _refuse(f"{what} into a {type(target).__name__}")
        return target

    def load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        self._target(_MAPPINGS, "SETITEM")[key] = value

    def load_setitems(self) -> None:
        items = self.pop_mark()
        mapping = self._target(_MAPPINGS, "SETITEMS")
        for i in range(0, len(items), 2):
            mapping[items[i]] = items[i + 1]

    def load_append(self) -> None:
        value = self.stack.pop()
        self._target((list,), "APPEND").append(value)

    def load_appends(self) -> None:
        items = self.pop_mark()
        self._target((list,), "APPENDS").extend(items)

    def load_additems(self) -> None:
        items = self.pop_mark()
        self._target((set,), "ADDITEMS").update(items)

    def load_binpersid(self) -> None:
        pid = self.stack.pop()
        # Only storages: torch's legacy loader also answers ('module', class, file, source) by reading and
        # diffing the class's source (and, for modules with dump_patches, writing a .patch file).
        if not (isinstance(pid, tuple) and pid and pid[0] in ("storage", b"storage")):
            raise _refuse(f"a persistent id other than a storage ({type(pid).__name__} {str(pid)[:40]!r})")
        self.append(self.persistent_load(pid))

    def _refuse_opcode(self) -> None:
        raise _refuse("a protocol 0/1 object opcode (INST/OBJ/NEWOBJ_EX/PERSID)")

    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.ADDITEMS[0]] = load_additems
    dispatch[pickle.BINPERSID[0]] = load_binpersid
    dispatch[pickle.PERSID[0]] = _refuse_opcode
    dispatch[pickle.NEWOBJ_EX[0]] = _refuse_opcode
    dispatch[pickle.INST[0]] = _refuse_opcode
    dispatch[pickle.OBJ[0]] = _refuse_opcode


def load(file: Any, **kwargs: Any) -> Any:
    """``pickle.load`` through :class:`Unpickler` (torch reads a legacy file's header with it)."""
    return Unpickler(file, **kwargs).load()
