"""A pickle machine that runs only the opcodes checkpoints are written with, building plain data.

``torch.load(f, pickle_module=checkpoint_unpickler, weights_only=False)`` reads a zip checkpoint's
``data.pkl`` with :class:`Unpickler` (torch restores the tensor storages through ``persistent_load``);
:mod:`.checkpoint_legacy` reads the format before torch 1.6 with it too, and :mod:`.checkpoint_formats`
plain pickles (PaddlePaddle's ``.pdparams``). It is shaped as ``torch/_weights_only_unpickler.py`` is: a
loop over the opcodes ``torch.save`` writes (protocol 2) and the six more that ``paddle.save`` writes for
numpy arrays at its default protocol 4 (``FRAME``, ``MEMOIZE``, ``SHORT_BINUNICODE``, ``STACK_GLOBAL``,
``SHORT_BINBYTES``, ``BINBYTES``), each implemented here, and every other opcode (``POP``, ``INST``,
``NEWOBJ_EX``, protocol 5's ``BYTEARRAY8``...) refused by name. What the opcodes may construct is
:mod:`.checkpoint_allowlist`'s: ``GLOBAL`` looks names up there, ``REDUCE`` calls only its callables,
``NEWOBJ`` makes only an empty ``HistoryBuffer``, ``BUILD`` sets state only through its :func:`build`,
items go only into pickle's own ``list`` / ``dict`` / ``OrderedDict`` (pickle's Python machine looks
``.extend`` / ``.append`` up on whatever object it fills, and a ``ConfigDict`` answers with a stored
value), and a persistent id must be a storage's.

Every step is charged to a :class:`~.checkpoint_budget.LoadBudget` sized by the pickle (work, memory,
hashing, nesting), and the result is checked to be plain data before it is returned.
"""

from __future__ import annotations

import _compat_pickle
import collections
import pickle
import pickletools
import struct
import sys
from typing import Any

import torch

from .checkpoint_allowlist import (
    ALLOWED,
    CALLABLE,
    HASHES_ITEMS,
    HistoryBufferClass,
    build,
    new_history_buffer,
    pickled_name,
    refuse,
)
from .checkpoint_budget import MAX_DEPTH, BudgetExceededError, LoadBudget, check_plain_data
from .untrusted_text import shown

_I4, _U4, _U2, _F8 = struct.Struct("<i"), struct.Struct("<I"), struct.Struct("<H"), struct.Struct(">d")
_U8 = struct.Struct("<Q")
_OPCODE_NAMES = {op.code.encode("latin-1")[0]: op.name for op in pickletools.opcodes}
_MAPPINGS = (dict, collections.OrderedDict)
_HASHED_ITEMS = frozenset({tuple, frozenset, torch.Size})  # what hashes its items each time it is hashed
_STOP = object()


def _remaining_bytes(file: Any) -> int:
    here = file.tell()
    end = file.seek(0, 2)
    file.seek(here)
    return end - here


class Unpickler:
    """Unpickles plain data only, within a budget; see the module docstring for what is allowed.

    Args:
        file: a binary file positioned at the pickle (its remaining size sizes the budget).
        encoding: how protocol 0-2 byte strings (``SHORT_BINSTRING``) are decoded; ``'bytes'`` keeps them.
    """

    def __init__(self, file: Any, *, encoding: str = "ASCII", errors: str = "strict") -> None:
        self.read, self.readline = file.read, file.readline
        self.encoding, self.errors = encoding, errors
        self.budget = LoadBudget(_remaining_bytes(file))
        self.memo: dict[int, Any] = {}
        self.stack: list[Any] = []
        self.metastack: list[list[Any]] = []
        # Tuples (and frozensets) as they were built: what hashing one costs, and how deep it nests.
        self._hash_costs: dict[int, tuple[Any, int, int]] = {}

    def persistent_load(self, pid: Any) -> Any:
        """torch sets this on each instance; a pickle read without torch has no storages."""
        raise refuse("a persistent id outside a torch checkpoint")

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED:
            raise refuse(shown(f"{module}.{name}", 80))
        return ALLOWED[module, name]

    def load(self) -> Any:
        """Run the pickle to its ``STOP``; return the object it built (checked to be plain data)."""
        dispatch = _DISPATCH
        while True:
            key = self.read(1)
            if not key:
                raise EOFError("the pickle ends before its STOP")
            handler = dispatch.get(key[0])
            if handler is None:
                name = _OPCODE_NAMES.get(key[0], "unknown")
                raise refuse(f"the pickle opcode {name} ({key!r})")
            try:  # each opcode takes a byte: the opcodes' own work is bounded by the pickle's size
                if handler(self) is _STOP:
                    result = self.stack.pop()
                    break
            except (IndexError, KeyError) as error:  # an empty stack, a missing mark or memo slot
                raise pickle.UnpicklingError(f"malformed pickle ({type(error).__name__})") from None
        check_plain_data(result, self.budget)
        return result

    # ---- reading arguments -------------------------------------------------------------------------
    def _bytes(self, n: int) -> bytes:
        if n > self.budget.size:  # before reading: a file object allocates what read() asks for
            raise EOFError("the pickle ends inside an argument")
        data = self.read(n)
        if len(data) < n:
            raise EOFError("the pickle ends inside an argument")
        return data

    def _unpack(self, layout: struct.Struct) -> Any:
        data = self.read(layout.size)
        if len(data) < layout.size:
            raise EOFError("the pickle ends inside an argument")
        return layout.unpack(data)[0]

    def _push(self, obj: Any, nbytes: int | None = None) -> None:
        """Push ``obj``, charging ``nbytes`` of memory (default: what ``sys.getsizeof`` says)."""
        self.budget.allocate(sys.getsizeof(obj) if nbytes is None else nbytes)
        self.stack.append(obj)

    def _pop_mark(self) -> list[Any]:
        items = self.stack
        self.stack = self.metastack.pop()
        return items

    # ---- hashing and nesting -------------------------------------------------------------------------
    def _hash_cost(self, key: Any) -> int:
        if type(key) is str or type(key) is bytes:
            return 1 + len(key) // 64
        known = self._hash_costs.get(id(key))
        if known is not None and known[0] is key:
            return known[1]
        return 1 + len(key) if type(key) in _HASHED_ITEMS else 1  # a flat tuple is not recorded

    def _depth(self, obj: Any) -> int:
        known = self._hash_costs.get(id(obj))
        if known is not None and known[0] is obj:
            return known[2]
        return 2 if type(obj) in _HASHED_ITEMS and len(obj) else 1

    def _note_items(self, obj: Any, items: Any) -> Any:
        """Remember what hashing the tuple or frozenset ``obj`` made of ``items`` costs; refuse deep ones.

        Only tuples of tuples are recorded: a tuple of other values (a tensor's size, a key) hashes in
        ``1 + len`` steps, which :meth:`_hash_cost` computes without a record."""
        self.budget.charge(work=len(items))
        if not any(type(item) in _HASHED_ITEMS for item in items):
            return obj
        depth = 1 + max(self._depth(item) for item in items)
        if depth > MAX_DEPTH:
            raise BudgetExceededError(f"nests tuples more than {MAX_DEPTH} deep")
        self._hash_costs[id(obj)] = (obj, 1 + sum(self._hash_cost(item) for item in items), depth)
        self.budget.allocate(192)  # the record
        return obj

    def _tuple(self, items: Any) -> None:
        self._push(self._note_items(tuple(items), items))

    def _tuple_of_last(self, n: int) -> None:
        if len(self.stack) < n:
            raise IndexError("stack underflow")
        items = self.stack[-n:]
        del self.stack[-n:]
        self._tuple(items)

    # ---- the opcodes -------------------------------------------------------------------------------
    def _proto(self) -> None:
        if self._bytes(1)[0] > pickle.HIGHEST_PROTOCOL:
            raise pickle.UnpicklingError("unsupported pickle protocol")

    def _stop(self) -> object:
        return _STOP

    def _global(self) -> None:
        module = self.readline()[:-1].decode("utf-8")
        name = self.readline()[:-1].decode("utf-8")
        if (module, name) in _compat_pickle.NAME_MAPPING:  # Python 2 names, as torch maps them
            module, name = _compat_pickle.NAME_MAPPING[module, name]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        self.stack.append(self.find_class(module, name))

    def _reduce(self) -> None:
        args = self.stack.pop()
        func = self.stack[-1]
        if id(func) not in CALLABLE:
            raise refuse(f"a call to {pickled_name(func)}")
        if type(args) is not tuple:
            raise refuse("a call whose arguments are not a tuple")
        self.budget.charge(work=len(args))
        if id(func) in HASHES_ITEMS and args and type(args[0]) is list:
            container = object()  # the set being built, for counting equal hashes
            for item in args[0]:
                self.budget.note_hash(container, item, self._hash_cost(item))
        result = func(*args)
        if type(result) is frozenset:
            self._note_items(result, args[0] if args else ())
        elif isinstance(result, tuple):  # torch.Size
            self._note_items(result, result)
        self.budget.charge_object(result)
        self.stack[-1] = result

    def _newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls is not HistoryBufferClass or type(args) is not tuple or args:
            raise refuse(f"creating {pickled_name(cls)}")
        self._push(new_history_buffer())

    def _build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        self.budget.charge(memory=build(inst, state))

    def _target(self, kinds: tuple[type, ...], what: str) -> Any:
        target = self.stack[-1]
        if type(target) not in kinds:
            raise refuse(f"{what} into a {pickled_name(type(target))}")
        return target

    def _set_items(self, items: list[Any], what: str) -> None:
        mapping = self._target(_MAPPINGS, what)
        if len(items) % 2:
            raise pickle.UnpicklingError(f"malformed pickle ({what} of an odd number of items)")
        before = sys.getsizeof(mapping)
        for i in range(0, len(items), 2):
            self.budget.note_hash(mapping, items[i], self._hash_cost(items[i]))
            mapping[items[i]] = items[i + 1]
        self.budget.charge(memory=max(sys.getsizeof(mapping) - before, 0) + 8 * len(items))

    def _setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        self._set_items([key, value], "SETITEM")

    def _setitems(self) -> None:
        self._set_items(self._pop_mark(), "SETITEMS")

    def _append(self) -> None:
        value = self.stack.pop()
        self._target((list,), "APPEND").append(value)
        self.budget.charge(memory=16)

    def _appends(self) -> None:
        items = self._pop_mark()
        self._target((list,), "APPENDS").extend(items)
        self.budget.charge(work=len(items), memory=16 * len(items))

    def _mark(self) -> None:
        self.metastack.append(self.stack)
        self.stack = []
        self.budget.charge(memory=72)

    def _binpersid(self) -> None:
        pid = self.stack.pop()
        # Only storages: torch's legacy loader also answers ('module', class, file, source) by reading and
        # diffing the class's source (and, for modules with dump_patches, writing a .patch file).
        if not (type(pid) is tuple and pid and pid[0] in ("storage", b"storage") and len(pid) in (5, 6)):
            raise refuse(f"a persistent id other than a storage's ({shown(pid)})")
        if not all(type(part) is str for part in pid[2:4]) or type(pid[4]) is not int or pid[4] < 0:
            raise refuse(f"a storage id of unexpected form ({shown(pid)})")
        self._push(self.persistent_load(pid), 512)  # its bytes are bounded by the file

    def _put(self, index: int) -> None:
        if index not in self.memo:
            self.budget.charge(memory=96)
        self.memo[index] = self.stack[-1]

    def _binunicode(self) -> None:
        self._push(str(self._bytes(self._unpack(_U4)), "utf-8", "surrogatepass"))

    def _short_binunicode(self) -> None:
        self._push(str(self._bytes(self._bytes(1)[0]), "utf-8", "surrogatepass"))

    def _frame(self) -> None:
        """Protocol 4's frames only group opcodes for buffering: this machine reads opcodes as they come."""
        if self._unpack(_U8) > self.budget.size:
            raise EOFError("a frame reaches past the end of the pickle")

    def _memoize(self) -> None:
        self._put(len(self.memo))

    def _stack_global(self) -> None:
        name = self.stack.pop()
        module = self.stack.pop()
        if type(module) is not str or type(name) is not str:
            raise pickle.UnpicklingError("malformed pickle (STACK_GLOBAL of other than two strings)")
        self.stack.append(self.find_class(module, name))

    def _short_binstring(self) -> None:
        data = self._bytes(self._bytes(1)[0])
        self._push(data if self.encoding == "bytes" else data.decode(self.encoding, self.errors))

    def _long1(self) -> None:
        self._push(pickle.decode_long(self._bytes(self._bytes(1)[0])))


def _dispatch() -> dict[int, Any]:
    u = Unpickler
    table = {
        pickle.PROTO: u._proto,
        pickle.STOP: u._stop,
        pickle.GLOBAL: u._global,
        pickle.REDUCE: u._reduce,
        pickle.NEWOBJ: u._newobj,
        pickle.BUILD: u._build,
        pickle.SETITEM: u._setitem,
        pickle.SETITEMS: u._setitems,
        pickle.APPEND: u._append,
        pickle.APPENDS: u._appends,
        pickle.MARK: u._mark,
        pickle.BINPERSID: u._binpersid,
        pickle.TUPLE: lambda self: self._tuple(self._pop_mark()),
        pickle.TUPLE1: lambda self: self._tuple_of_last(1),
        pickle.TUPLE2: lambda self: self._tuple_of_last(2),
        pickle.TUPLE3: lambda self: self._tuple_of_last(3),
        pickle.NONE: lambda self: self.stack.append(None),
        pickle.NEWFALSE: lambda self: self.stack.append(False),
        pickle.NEWTRUE: lambda self: self.stack.append(True),
        pickle.EMPTY_TUPLE: lambda self: self._tuple(()),
        pickle.EMPTY_LIST: lambda self: self._push([], 64),
        pickle.EMPTY_DICT: lambda self: self._push({}, 72),
        pickle.EMPTY_SET: lambda self: self._push(set(), 224),
        pickle.BININT: lambda self: self._push(self._unpack(_I4), 40),
        pickle.BININT1: lambda self: self._push(self._bytes(1)[0], 8),  # CPython keeps these ints
        pickle.BININT2: lambda self: self._push(self._unpack(_U2), 40),
        pickle.BINFLOAT: lambda self: self._push(self._unpack(_F8), 32),
        pickle.BINUNICODE: u._binunicode,
        pickle.SHORT_BINSTRING: u._short_binstring,
        pickle.LONG1: u._long1,
        pickle.BINGET: lambda self: self.stack.append(self.memo[self._bytes(1)[0]]),
        pickle.LONG_BINGET: lambda self: self.stack.append(self.memo[self._unpack(_U4)]),
        pickle.BINPUT: lambda self: self._put(self._bytes(1)[0]),
        pickle.LONG_BINPUT: lambda self: self._put(self._unpack(_U4)),
        # Protocols 3 and 4, as paddle.save writes numpy arrays.
        pickle.FRAME: u._frame,
        pickle.MEMOIZE: u._memoize,
        pickle.SHORT_BINUNICODE: u._short_binunicode,
        pickle.STACK_GLOBAL: u._stack_global,
        pickle.SHORT_BINBYTES: lambda self: self._push(self._bytes(self._bytes(1)[0])),
        pickle.BINBYTES: lambda self: self._push(self._bytes(self._unpack(_U4))),
    }
    return {code[0]: handler for code, handler in table.items()}


def load(file: Any, **kwargs: Any) -> Any:
    """``pickle.load`` through :class:`Unpickler`."""
    return Unpickler(file, **kwargs).load()


_DISPATCH = _dispatch()
