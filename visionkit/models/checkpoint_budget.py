"""What unpickling a checkpoint may cost: work, memory and nesting in proportion to the pickle's size.

A pickle is a program, and one that constructs only plain data can still ask for too much: a 1.4 kB
pickle of tuples sharing their items hashes for years (each level doubles the work), a tuple nested a
million deep crashes CPython's hash, a string stored once and encoded a million times fills the memory,
and a structure whose parts are shared makes every naive walk of the result (a ``repr``, a recursive
copy) exponential. :class:`LoadBudget` bounds all of these for a pickle of ``size`` bytes:

- **work**: :data:`WORK_BASE` + :data:`WORK_PER_BYTE` x ``size`` steps; each opcode is a step, hashing a
  key costs the size of the key expanded as a tree, a call costs the size of what it reads;
- **memory**: :data:`MEMORY_BASE` + :data:`MEMORY_PER_BYTE` x ``size`` bytes for the objects built
  (measured with ``sys.getsizeof``; tensor storages are bounded by the file instead, see
  docs/trust_model.md);
- **equal hashes**: at most :data:`MAX_EQUAL_HASHES` keys of one container share a hash value (ints
  chosen to collide make every insertion scan all the others);
- **the result** (:func:`check_plain_data`): plain types only, no container inside itself, nesting at
  most :data:`MAX_DEPTH`, and at most as many nodes, counted as a tree (every shared part once per use,
  strings by length), as the work limit: what any recursive walk of it will cost.
"""

from __future__ import annotations

import collections
import sys
from typing import Any

import numpy as np
import torch
from mmengine.logging import HistoryBuffer

from .checkpoint_allowlist import RefusedPickleError
from .untrusted_text import shown

WORK_BASE = 1 << 20
WORK_PER_BYTE = 8
MEMORY_BASE = 64 << 20
MEMORY_PER_BYTE = 32
MAX_DEPTH = 64
MAX_EQUAL_HASHES = 32
_STRING_CHARS_PER_NODE = 16

_SCALARS = frozenset({type(None), bool, int, float})  # the common leaves, counted without a call
_CONTAINERS = (dict, collections.OrderedDict, list, tuple, set, frozenset, torch.Size)
_LEAVES = frozenset(
    {
        type(None),
        bool,
        int,
        float,
        complex,
        str,
        bytes,
        np.ndarray,
        np.dtype,
        torch.Tensor,
        torch.nn.Parameter,
        torch.dtype,
        torch.device,
    }
)


class BudgetExceededError(RefusedPickleError):
    """A pickle asked for more work, memory or nesting than its size allows."""


def limits_for(size: int) -> tuple[int, int]:
    """(work steps, memory bytes) a pickle of ``size`` bytes may take."""
    return WORK_BASE + WORK_PER_BYTE * size, MEMORY_BASE + MEMORY_PER_BYTE * size


class LoadBudget:
    """Counts the work and memory one unpickling spends; raises :class:`BudgetExceededError` past them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.work_limit, self.memory_limit = limits_for(size)
        self.work_left, self.memory_left = self.work_limit, self.memory_limit
        self._equal_hashes: dict[tuple[int, int], int] = {}

    def charge(self, work: int = 0, memory: int = 0) -> None:
        self.work_left -= work
        self.memory_left -= memory
        if self.work_left < 0:
            raise BudgetExceededError(
                f"needs more than {self.work_limit} steps, what a pickle of {self.size} bytes may take"
            )
        if self.memory_left < 0:
            self.allocate(0)

    def allocate(self, nbytes: int) -> None:
        """Charge ``nbytes`` of memory (the unpickler's most frequent charge, so kept short)."""
        self.memory_left -= nbytes
        if self.memory_left < 0:
            raise BudgetExceededError(
                f"needs more than {self.memory_limit >> 20} MiB, what a pickle of {self.size} bytes may take"
            )

    def charge_object(self, obj: Any) -> None:
        """Charge the memory of a newly built object."""
        if type(obj) is np.ndarray:
            self.allocate(obj.nbytes + 128)
        elif isinstance(obj, (torch.Tensor, torch.storage.TypedStorage)):
            self.allocate(512)  # the storage's bytes are the file's, bounded by the archive check
        else:
            self.allocate(sys.getsizeof(obj))

    def note_hash(self, container: Any, key: Any, cost: int) -> None:
        """Charge hashing ``key`` (``cost`` steps) into ``container`` and comparing it with the keys of
        equal hash already there; refuse flooding with equal hashes."""
        if type(key) is str or type(key) is bytes:  # salted hashes: a file cannot choose collisions
            self.charge(work=2 * cost)
            return
        self.charge(work=cost)  # before hashing it
        slot = (id(container), hash(key))
        count = self._equal_hashes.get(slot, 0)
        self.charge(work=cost * (1 + count), memory=0 if count else 160)  # the comparisons; the count
        if count >= MAX_EQUAL_HASHES:
            raise BudgetExceededError(f"has more than {MAX_EQUAL_HASHES} keys of equal hash in one container")
        self._equal_hashes[slot] = count + 1


def _node_weight(obj: Any) -> int:
    if type(obj) is str or type(obj) is bytes:
        return 1 + len(obj) // _STRING_CHARS_PER_NODE
    return 1


def _children(obj: Any) -> Any:
    if type(obj) is dict or type(obj) is collections.OrderedDict:
        yield from obj.keys()
        yield from obj.values()
        if type(obj) is collections.OrderedDict and obj.__dict__:
            yield obj.__dict__  # a state dict's _metadata
    else:
        yield from obj


def _is_leaf(obj: Any) -> bool:
    return type(obj) in _LEAVES or isinstance(obj, (np.generic, np.dtype)) or type(obj) is HistoryBuffer


def check_plain_data(root: Any, budget: LoadBudget) -> None:
    """Refuse ``root`` unless it is plain data of bounded size and depth (see the module docstring).

    Iterative (no recursion, so no depth can crash it); each distinct container is visited once and its
    size as a tree remembered, so the check costs what the unpickling cost.
    """
    limit = budget.work_limit
    tree_sizes: dict[int, int] = {}
    frames: list[list[Any]] = []  # [container, its children, tree size so far]
    on_path: set[int] = set()

    def enter(obj: Any) -> int | None:
        """The tree size of ``obj`` if known now; None after starting a frame for it."""
        if type(obj) not in _CONTAINERS:
            if not _is_leaf(obj):
                raise RefusedPickleError(f"refused {shown(obj)} in what it holds: not plain data")
            return _node_weight(obj)
        if id(obj) in on_path:
            raise RefusedPickleError("refused a container that contains itself")
        if id(obj) in tree_sizes:
            return tree_sizes[id(obj)]
        if len(frames) >= MAX_DEPTH:
            raise BudgetExceededError(f"nests containers more than {MAX_DEPTH} deep")
        budget.allocate(128)  # what remembering its tree size takes
        frames.append([obj, _children(obj), 1])
        on_path.add(id(obj))
        return None

    enter(root)
    steps = 0
    while frames:
        frame = frames[-1]
        steps += 1
        child = next(frame[1], frame)  # the frame itself marks the end of its children
        if child is frame:
            frames.pop()
            on_path.discard(id(frame[0]))
            tree_sizes[id(frame[0])] = frame[2]
            if frames:
                frames[-1][2] += frame[2]
        elif type(child) in _SCALARS:
            frame[2] += 1
        else:
            weight = enter(child)
            frame[2] += 0 if weight is None else weight
        if frames and frames[-1][2] > limit:
            raise BudgetExceededError(
                f"holds more than {limit} nodes counted as a tree (its parts shared over and over), what a "
                f"pickle of {budget.size} bytes may hold"
            )
    budget.charge(work=steps)
