"""Reading the checkpoint format of PyTorch 0.4 to 1.5 (``_use_new_zipfile_serialization=False`` today).

Files of that age are still published (torchvision's ``mobilenet_v2-b0353104.pth`` is one). The format is
a run of pickles: a magic number, a protocol version, system information, the object (whose tensors name
their storages by key and size), the list of storage keys, then each storage as an int64 element count
and its bytes. torch's own reader allocates every storage the object names at the size it claims, before
reading any bytes, and fills only those the key list names: a crafted file gets tensors of uninitialised
memory, or gigabytes for a few bytes of claim. Here the claims together may not exceed the bytes left in
the file, the key list must name exactly the storages the object uses, each once, and each stored count
must match its claim, so every tensor returned holds bytes read from the file. Tensors load on the CPU.
"""

from __future__ import annotations

import struct
from typing import Any

import torch

from .checkpoint_allowlist import refuse
from .checkpoint_unpickler import Unpickler
from .untrusted_text import shown

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001


class _LegacyUnpickler(Unpickler):
    """Names ``torch.FloatStorage`` & co. as torch's legacy reader does: by the dtype they store."""

    def find_class(self, module: str, name: str) -> Any:
        if module == "torch" and name.endswith("Storage"):
            try:
                return torch.serialization.StorageType(name)
            except KeyError:
                pass
        return super().find_class(module, name)


class _Storages:
    """The storages a legacy pickle names: created empty at their claimed size, filled afterwards."""

    def __init__(self, file: Any, size: int) -> None:
        self.file, self.size = file, size
        self.roots: dict[str, torch.storage.TypedStorage] = {}
        self.views: dict[str, torch.storage.TypedStorage] = {}
        self.claimed = 0

    def load(self, pid: tuple) -> torch.storage.TypedStorage:
        """torch's ``persistent_load`` for ``('storage', type, key, location, numel, view)``."""
        if len(pid) != 6 or not isinstance(pid[1], torch.serialization.StorageType):
            raise refuse(f"a legacy storage id of unexpected form ({shown(pid)})")
        _, storage_type, key, _, numel, view = pid
        dtype = storage_type.dtype
        root = self.roots.get(key)
        if root is None:
            self.claimed += numel * torch._utils._element_size(dtype)
            if self.claimed > self.size - self.file.tell():
                raise refuse(f"storages of {self.claimed} bytes in a file of {self.size}")
            storage = torch.UntypedStorage(numel * torch._utils._element_size(dtype))
            root = self.roots[key] = torch.storage.TypedStorage(
                wrap_storage=storage, dtype=dtype, _internal=True
            )
        elif root.dtype != dtype:
            raise refuse(f"storage {shown(key)} named with two dtypes")
        return root if view is None else self._view(root, view)

    def _view(self, root: torch.storage.TypedStorage, view: Any) -> torch.storage.TypedStorage:
        if not (type(view) is tuple and len(view) == 3 and type(view[0]) is str):
            raise refuse(f"a storage view of unexpected form ({shown(view)})")
        key, offset, count = view
        if not (
            type(offset) is int and type(count) is int and 0 <= offset and offset + count <= root._size()
        ):
            raise refuse(f"a storage view {shown(view)} outside its storage of {root._size()}")
        if key not in self.views:
            element = torch._utils._element_size(root.dtype)
            part = root._untyped_storage[offset * element : (offset + count) * element]
            self.views[key] = torch.storage.TypedStorage(wrap_storage=part, dtype=root.dtype, _internal=True)
        return self.views[key]

    def fill(self, keys: Any) -> None:
        """Read each storage's bytes, in the order of ``keys``, which must name every storage once."""
        # Strings first: sorting other values would compare them, and tuples can compare for ever.
        if (
            type(keys) is not list
            or not all(type(k) is str for k in keys)
            or sorted(keys) != sorted(self.roots)
        ):
            raise refuse("a storage key list other than the storages its tensors use, each once")
        for key in keys:
            storage = self.roots[key]
            (count,) = struct.unpack("<q", _exactly(self.file, 8))
            if count != storage._size():
                raise refuse(
                    f"storage {shown(key)} of {count} elements where its tensors claim {storage._size()}"
                )
            view = torch.empty(0, dtype=torch.uint8).set_(storage._untyped_storage)
            if self.file.readinto(memoryview(view.numpy())) != view.numel():
                raise EOFError("the file ends inside a storage")


def _exactly(file: Any, n: int) -> bytes:
    data = file.read(n)
    if len(data) != n:
        raise EOFError("the file ends inside a storage")
    return data


def load_legacy(file: Any) -> Any:
    """The object a legacy checkpoint holds, tensors on the CPU (``file`` open at its start)."""
    size = file.seek(0, 2)
    file.seek(0)
    if Unpickler(file).load() != MAGIC_NUMBER:
        raise ValueError("it is not a PyTorch checkpoint (no magic number)")
    if Unpickler(file).load() != PROTOCOL_VERSION:
        raise ValueError("its legacy format version is not 1001")
    info = Unpickler(file).load()
    if type(info) is not dict or info.get("little_endian", True) is not True:
        raise ValueError("it was saved on a big-endian machine, which torch's legacy format does not convert")
    storages = _Storages(file, size)
    unpickler = _LegacyUnpickler(file, encoding="utf-8")
    unpickler.persistent_load = storages.load
    result = unpickler.load()
    storages.fill(Unpickler(file).load())
    return result
