"""The six opcodes paddle.save adds to torch's protocol-2 set (numpy arrays at pickle protocol 4): what they
build is what pickle builds, each is charged to the unpickler's budgets, and each refuses what a hostile
file asks of it. tests/models/test_checkpoint_limits.py holds the budget tests of the other opcodes."""

from __future__ import annotations

import io
import pickle
import pickletools
import struct
import tracemalloc

import numpy as np
import pytest

from visionkit.models import CheckpointReadError, UnsafeCheckpointError, checkpoint_budget, read_checkpoint
from visionkit.models.checkpoint_unpickler import Unpickler

NEW_OPCODES = {"FRAME", "MEMOIZE", "SHORT_BINUNICODE", "STACK_GLOBAL", "SHORT_BINBYTES", "BINBYTES"}


def paddle_state(count: int = 3) -> dict:
    """A state dict as paddle.save pickles it: names -> float32 arrays, plus Paddle's name table."""
    rng = np.random.default_rng(0)
    state = {
        f"conv{i}._conv.weight": rng.standard_normal((4, 3, 3, 3), dtype=np.float32) for i in range(count)
    }
    state["out.bias"] = np.zeros(10, np.float32)
    state["StructuredToParameterName@@"] = {name: f"conv2d_{i}.w_0" for i, name in enumerate(state)}
    return state


def opcodes(data: bytes) -> set[str]:
    return {op.name for op, _, _ in pickletools.genops(data)}


def write(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_paddle_pickles_load_as_pickle_builds_them(tmp_path, protocol):
    """Protocol 4 (paddle.save's default) writes the six opcodes and nothing else new; 2 and 3 load too."""
    state = paddle_state()
    data = pickle.dumps(state, protocol=protocol)
    if protocol == 4:
        assert NEW_OPCODES <= opcodes(data)
        assert opcodes(data) - NEW_OPCODES <= opcodes(pickle.dumps(state, protocol=2)) | {"PROTO"}
    assert Unpickler(io.BytesIO(data)).load().keys() == state.keys()  # the raw pickle, name table included
    loaded = read_checkpoint(write(tmp_path, "w.pdparams", data))
    assert sorted(loaded) == sorted(k for k in state if not k.endswith("@@"))
    for name, tensor in loaded.items():
        np.testing.assert_array_equal(tensor.numpy(), state[name])


def _repeat(opcode: bytes, times: int, first: bytes = b"") -> bytes:
    return pickle.PROTO + b"\x04" + first + opcode * times + pickle.STOP


_CHARGED = {
    "SHORT_BINUNICODE": (pickle.SHORT_BINUNICODE + b"\x00", b""),  # "" is 49 bytes
    "SHORT_BINBYTES": (pickle.SHORT_BINBYTES + b"\x00", b""),  # b"" is 33 bytes
    "BINBYTES": (pickle.BINBYTES + bytes(4), b""),
    "MEMOIZE": (pickle.MEMOIZE, pickle.NONE),  # a memo entry (96 bytes) per byte
}


@pytest.mark.parametrize("name", sorted(_CHARGED))
def test_each_new_opcode_is_charged_to_the_memory_budget(tmp_path, monkeypatch, name):
    """With 1 MiB + 4 bytes per byte of pickle to spend, 120 000 empty strings (or memo entries) do not
    fit: each is charged what it holds, as torch's opcodes are."""
    monkeypatch.setattr(checkpoint_budget, "MEMORY_BASE", 1 << 20)
    monkeypatch.setattr(checkpoint_budget, "MEMORY_PER_BYTE", 4)
    opcode, first = _CHARGED[name]
    payload = _repeat(opcode, 120_000, first)
    assert name in opcodes(payload)
    with pytest.raises(
        UnsafeCheckpointError, match=r"op\.pdparams' was not loaded: it needs more than \d+ MiB"
    ):
        read_checkpoint(write(tmp_path, "op.pdparams", payload))


@pytest.mark.parametrize(
    ("opcode", "length"),
    [(pickle.FRAME, struct.pack("<Q", 1 << 62)), (pickle.BINBYTES, struct.pack("<I", 0xFFFFFFFF))],
    ids=["FRAME", "BINBYTES"],
)
def test_a_length_beyond_the_file_is_refused_before_anything_is_allocated(tmp_path, opcode, length):
    """A 4 GiB BINBYTES (or a 2**62-byte frame) in a 20-byte file: a file object's read(n) allocates n
    bytes first; the unpickler compares n with the pickle's size before reading."""
    path = write(tmp_path, "long.pdparams", pickle.PROTO + b"\x04" + opcode + length + b"abc" + pickle.STOP)
    tracemalloc.start()
    try:
        with pytest.raises(
            CheckpointReadError, match=r"long\.pdparams.*(ends inside an argument|past the end of the pickle)"
        ):
            read_checkpoint(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("builtins", "eval"),
        ("os", "system"),
        ("numpy", "ndarray.__reduce_ex__"),  # pickle's own find_class walks dotted names at protocol 4
        ("mmengine.config.config", "ConfigDict.__init__"),
        ("numpy.core.multiarray", "_reconstruct.__globals__"),
    ],
)
def test_stack_global_looks_names_up_as_global_does(tmp_path, module, name):
    """STACK_GLOBAL names a global from two strings on the stack; only the exact (module, name) pairs of
    the allowlist answer, dotted attribute paths included."""
    names = pickle.SHORT_BINUNICODE + bytes([len(module)]) + module.encode()
    names += pickle.SHORT_BINUNICODE + bytes([len(name)]) + name.encode()
    path = write(
        tmp_path, "global.pdparams", pickle.PROTO + b"\x04" + names + pickle.STACK_GLOBAL + pickle.STOP
    )
    with pytest.raises(UnsafeCheckpointError, match=rf"global\.pdparams.*refused '?{module}\.{name}"):
        read_checkpoint(path)


def test_stack_global_of_anything_but_two_strings_is_malformed(tmp_path):
    payload = pickle.PROTO + b"\x04" + pickle.NONE + pickle.NONE + pickle.STACK_GLOBAL + pickle.STOP
    with pytest.raises(CheckpointReadError, match=r"g\.pdparams.*STACK_GLOBAL of other than two strings"):
        read_checkpoint(write(tmp_path, "g.pdparams", payload))


def test_memoize_on_an_empty_stack_is_malformed(tmp_path):
    payload = pickle.PROTO + b"\x04" + pickle.MEMOIZE + pickle.STOP
    with pytest.raises(CheckpointReadError, match=r"m\.pdparams.*malformed pickle"):
        read_checkpoint(write(tmp_path, "m.pdparams", payload))


def test_a_persistent_id_outside_a_torch_archive_is_refused(tmp_path):
    payload = pickle.PROTO + b"\x04" + pickle.NONE + pickle.BINPERSID + pickle.STOP
    with pytest.raises(UnsafeCheckpointError, match=r"p\.pdparams.*refused a persistent id"):
        read_checkpoint(write(tmp_path, "p.pdparams", payload))
