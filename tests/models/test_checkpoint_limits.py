"""A checkpoint that runs no code may still ask for too much: each file here did, through the reader of
c52df3f (noted per test); each is now refused by name, within the budget docs/trust_model.md states for
its size (:mod:`visionkit.models.checkpoint_budget`), or loads exactly as torch.save wrote it."""

from __future__ import annotations

import io
import pickle
import re
import struct
import subprocess
import sys
import tracemalloc

import pytest
import torch

from tests.engine.hostile_checkpoints import PickleAssembler, save_raw_pickle
from tests.models.hostile_archives import overlapping_records, two_directories
from visionkit.models import CheckpointReadError, UnsafeCheckpointError, read_checkpoint


def _int(value: int) -> bytes:
    return pickle.BININT + struct.pack("<i", value)


def _shared_tuples(levels: int) -> PickleAssembler:
    """t0 = (); t(k+1) = (tk, tk) through the memo: 4 bytes per level, 2**levels leaves to hash."""
    ops = PickleAssembler()
    ops.code += pickle.EMPTY_TUPLE
    for _ in range(levels):
        slot = ops.put()
        ops.get(slot).code += pickle.TUPLE2
    return ops


def test_a_key_whose_hash_doubles_per_level_is_refused(tmp_path):
    """c52df3f: 22 levels (100 bytes) took 4 M hash steps as a dict key; 60 levels hashed for years and
    Ctrl-C could not stop it. Hashing a key costs its size as a tree, charged before it runs."""
    ops = _shared_tuples(22)
    ops.code = bytearray(pickle.PROTO + b"\x02" + pickle.EMPTY_DICT) + ops.code[2:]
    ops.code += pickle.NONE + pickle.SETITEM + pickle.STOP
    path = save_raw_pickle(tmp_path / "hash.pth", bytes(ops.code))
    with pytest.raises(
        UnsafeCheckpointError, match=r"hash\.pth' was not loaded: it needs more than \d+ steps"
    ):
        read_checkpoint(str(path))


def test_the_work_limit_is_2_to_the_20_steps_plus_8_per_byte(tmp_path):
    """A key of 17 doubling levels (2**18 steps to hash, and as many to compare) loads; 19 levels (2**21,
    beyond 2**20 + 8 x 100 bytes) does not."""
    for levels, loads in ((17, True), (19, False)):
        ops = _shared_tuples(levels)
        ops.code = bytearray(pickle.PROTO + b"\x02" + pickle.EMPTY_DICT) + ops.code[2:]
        payload = bytes(ops.code + pickle.NONE + pickle.SETITEM + pickle.STOP)
        path = save_raw_pickle(tmp_path / "key.pth", payload)
        if loads:
            assert len(read_checkpoint(str(path))) == 1
        else:
            with pytest.raises(
                UnsafeCheckpointError, match=rf"needs more than {2**20 + 8 * len(payload)} steps"
            ):
                read_checkpoint(str(path))


def test_a_string_shared_over_and_over_counts_by_its_length(tmp_path):
    """20 000 references to one 64 kB string cost 40 kB of pickle and print as 1.3 GB: the result is
    counted as a tree with strings by length, and refused."""
    ops = PickleAssembler()
    text = (ops.str("a" * 65536), ops.put())[1]
    ops.code += pickle.EMPTY_LIST + pickle.MARK
    for _ in range(20_000):
        ops.get(text)
    path = save_raw_pickle(tmp_path / "shared.pth", bytes(ops.code + pickle.APPENDS + pickle.STOP))
    with pytest.raises(UnsafeCheckpointError, match=r"shared\.pth.*nodes counted as a tree"):
        read_checkpoint(str(path))


def test_nesting_is_bounded(tmp_path):
    """c52df3f built a tuple nested a million deep from a 1 MB file (TUPLE1 is one byte); hashing it crashed
    CPython (SIGSEGV). Nesting stops at 64, for tuples while they are built and for the result."""
    path = save_raw_pickle(
        tmp_path / "deep.pth", pickle.PROTO + b"\x02" + pickle.NONE + pickle.TUPLE1 * 100 + pickle.STOP
    )
    with pytest.raises(UnsafeCheckpointError, match=r"deep\.pth.*nests tuples more than 64 deep"):
        read_checkpoint(str(path))
    lists = pickle.PROTO + b"\x02" + pickle.EMPTY_LIST * 100 + pickle.APPEND * 99 + pickle.STOP
    path = save_raw_pickle(tmp_path / "lists.pth", lists)
    with pytest.raises(UnsafeCheckpointError, match=r"lists\.pth.*nests containers more than 64 deep"):
        read_checkpoint(str(path))


def test_shared_parts_cannot_make_the_result_exponential(tmp_path):
    """Lists that hold the list before them twice, inside a ConfigDict: c52df3f's ConfigDict copied every
    shared part (2**21 lists from 150 bytes, and memory without bound at more levels); any recursive walk
    of the result (a repr, a deepcopy without memo) is as large. The result is counted as a tree."""
    ops = PickleAssembler()
    ops.glob("mmengine.config.config", "ConfigDict")
    ops.code += pickle.EMPTY_DICT
    ops.str("nested").code += pickle.EMPTY_LIST + pickle.MARK + pickle.EMPTY_LIST  # [L0, L1, ...], L0 = []
    for _ in range(21):
        slot = ops.put()
        ops.code += pickle.EMPTY_LIST + pickle.MARK
        ops.get(slot).get(slot).code += pickle.APPENDS  # L(k+1) = [Lk, Lk]
    ops.code += pickle.APPENDS + pickle.SETITEM + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP
    path = save_raw_pickle(tmp_path / "shared.pth", bytes(ops.code))
    with pytest.raises(
        UnsafeCheckpointError, match=r"shared\.pth.*holds more than \d+ nodes counted as a tree"
    ):
        read_checkpoint(str(path))


@pytest.mark.parametrize("container", ["dict", "set"])
def test_keys_chosen_to_collide_are_refused(tmp_path, container):
    """Ints that CPython hashes alike (k * (2**61 - 1)) make each dict or set insertion scan all the others:
    c52df3f took quadratic time in the number of keys. A set comes as ``set([...])`` (REDUCE of a list)."""
    keys = [
        pickle.LONG1 + bytes([9]) + (k * (2**61 - 1)).to_bytes(9, "little", signed=True)
        for k in range(1, 200)
    ]
    ops = PickleAssembler()
    if container == "dict":
        ops.code += pickle.EMPTY_DICT + pickle.MARK + b"".join(key + pickle.NONE for key in keys)
        ops.code += pickle.SETITEMS + pickle.STOP
    else:
        ops.glob("builtins", "set").code += pickle.EMPTY_LIST + pickle.MARK + b"".join(keys) + pickle.APPENDS
        ops.code += pickle.TUPLE1
        ops.code += pickle.REDUCE + pickle.STOP
    path = save_raw_pickle(tmp_path / "collide.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=r"collide\.pth.*more than 32 keys of equal hash"):
        read_checkpoint(str(path))


def test_memory_stays_within_the_budget_of_the_pickles_size(tmp_path, monkeypatch):
    """One byte (EMPTY_SET) makes a 216-byte set: c52df3f held 224 bytes per byte of pickle, and copies of
    one stored string without limit. Unpickling stops at its budget, MEMORY_BASE (64 MiB; 1 MiB here, to
    keep the test small) + 32 bytes per byte of pickle."""
    from visionkit.models import checkpoint_budget

    monkeypatch.setattr(checkpoint_budget, "MEMORY_BASE", 1 << 20)
    count = 1 << 16
    path = save_raw_pickle(
        tmp_path / "sets.pth", pickle.PROTO + b"\x02" + pickle.EMPTY_SET * count + pickle.STOP
    )
    tracemalloc.start()
    try:
        with pytest.raises(UnsafeCheckpointError, match=r"sets\.pth.*needs more than \d+ MiB"):
            read_checkpoint(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.25 * ((1 << 20) + checkpoint_budget.MEMORY_PER_BYTE * count), peak


def test_one_string_encoded_over_and_over_is_charged_each_time(tmp_path):
    """``_codecs.encode`` of one memoised 64 kB string, 10 000 times: 640 MB from a 70 kB file."""
    ops = PickleAssembler()
    encode = (ops.glob("_codecs", "encode"), ops.put())[1]
    text = (ops.str("a" * 65536), ops.put())[1]
    latin1 = (ops.str("latin1"), ops.put())[1]
    ops.code += pickle.EMPTY_LIST + pickle.MARK  # the list of copies ends on top: STOP returns it
    for _ in range(10_000):
        ops.get(encode).get(text).get(latin1).code += pickle.TUPLE2 + pickle.REDUCE
    ops.code += pickle.APPENDS + pickle.STOP
    path = save_raw_pickle(tmp_path / "copies.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=r"copies\.pth.*needs more than \d+ MiB"):
        read_checkpoint(str(path))


def test_history_buffers_cost_what_their_bytes_do():
    """c52df3f rescanned the whole memo after each HistoryBuffer (quadratic: 3000 buffers in a memo of
    10 000 objects were 30 M steps); each now costs its own opcodes."""
    from mmengine.logging import HistoryBuffer

    from visionkit.models.checkpoint_unpickler import Unpickler

    data = pickle.dumps([HistoryBuffer([1.0], [1]) for _ in range(3000)] + [str(i) for i in range(10_000)], 2)
    unpickler = Unpickler(io.BytesIO(data))
    loaded = unpickler.load()
    assert len(loaded) == 13_000 and loaded[0].current() == 1.0
    spent = unpickler.budget.work_limit - unpickler.budget.work_left
    assert spent < 2 * len(data), (spent, len(data))


def _zip_checkpoint(path, data_pkl: bytes, storage: bytes):
    """A zip checkpoint as torch writes one: ``data_pkl`` and one storage record ``data/0``."""
    writer = torch._C.PyTorchFileWriter(str(path))
    for name, data in (("data.pkl", data_pkl), ("byteorder", b"little"), ("data/0", storage)):
        writer.write_record(name, data, len(data))
    writer.write_end_of_file()
    return path


def _tensor_file(path, size: tuple[int, ...], stride: tuple[int, ...]):
    """A zip checkpoint ``{'x': tensor}`` whose tensor has ``size`` / ``stride`` over 4 stored floats."""
    ops = PickleAssembler()
    ops.code += pickle.EMPTY_DICT
    ops.str("x").glob("torch._utils", "_rebuild_tensor_v2").code += pickle.MARK + pickle.MARK
    ops.str("storage").glob("torch", "FloatStorage").str("0").str("cpu").code += _int(4) + pickle.TUPLE
    ops.code += pickle.BINPERSID + _int(0) + pickle.MARK
    ops.code += b"".join(
        _int(n) if n < 2**31 else pickle.LONG1 + bytes([6]) + n.to_bytes(6, "little") for n in size
    )
    ops.code += pickle.TUPLE + pickle.MARK + b"".join(_int(s) for s in stride) + pickle.TUPLE
    ops.code += pickle.NEWFALSE + b"ccollections\nOrderedDict\n" + pickle.EMPTY_TUPLE + pickle.REDUCE
    ops.code += pickle.TUPLE + pickle.REDUCE + pickle.SETITEM + pickle.STOP
    return _zip_checkpoint(path, bytes(ops.code), bytes(16))


def test_a_refused_storage_is_named_not_printed(tmp_path):
    """A pickle whose result is a bare storage (no tensor around it) is refused as not plain data; on
    f328df2 the message was built from the storage's repr, which lists every element: 10 s and +80 MB
    for a 4 MB file. Refused objects are shown by their type's name."""
    ops = PickleAssembler()
    ops.code += pickle.MARK
    ops.str("storage").glob("torch", "FloatStorage").str("0").str("cpu").code += _int(100_000)
    ops.code += pickle.TUPLE + pickle.BINPERSID + pickle.STOP
    path = _zip_checkpoint(tmp_path / "bare.pth", bytes(ops.code), bytes(400_000))
    with pytest.raises(
        UnsafeCheckpointError, match=r"bare\.pth.*refused <TypedStorage> in what it holds"
    ) as error:
        read_checkpoint(str(path))
    assert "0.0" not in str(error.value)


@pytest.mark.parametrize(
    ("size", "stride", "refused"),
    [
        ((100_000, 100_000), (0, 0), "overlapping elements"),
        ((4, 4), (1, 1), "overlapping elements"),
        ((8,), (1,), "reaching element 7 of a storage of 4"),
        ((0, 10**12), (1, 1), "an empty tensor of size"),
        ((0, 1_500_000), (1, 1), "an empty tensor of size"),
        ((1,) * 40, (1,) * 40, "a tensor of 40 sizes"),
    ],
    ids=["stride-0", "overlap", "past-storage", "empty-huge", "empty-past-2**20", "dims"],
)
def test_tensor_geometry_torch_save_does_not_write_is_refused(tmp_path, size, stride, refused):
    """A 700-byte file whose tensor claims (100000, 100000) over 4 stored floats: c52df3f loaded it, and
    an optimizer's cast on --resume (or any densifying op) asked for 40 GB."""
    path = _tensor_file(tmp_path / "view.pth", size, stride)
    with pytest.raises(UnsafeCheckpointError, match=rf"view\.pth.*refused .*{re.escape(refused)}"):
        read_checkpoint(str(path))


def test_the_views_torch_save_writes_load_as_saved(tmp_path):
    base = torch.arange(24.0).reshape(2, 3, 4)
    views = {
        "transposed": base.transpose(0, 2),
        "sliced": base[:, 1:, ::2],
        "offset": base.view(-1)[5:9],
        "channels_last": torch.randn(2, 3, 4, 5).to(memory_format=torch.channels_last),
        "empty": torch.zeros(0, 7),
        "scalar": torch.tensor(3.0),
    }
    path = tmp_path / "views.pth"
    torch.save(views, path)
    loaded = read_checkpoint(str(path))
    for name, view in views.items():
        assert torch.equal(loaded[name], view) and loaded[name].stride() == view.stride(), name


def test_a_compressed_record_behind_a_second_directory_is_refused(tmp_path):
    """Python's zipfile saw every record stored; torch's miniz, reading the directory the end record names,
    inflated data.pkl: c52df3f loaded a 64 MB string from this 67 kB file (a 389 kB one took 1.15 GB)."""
    path = two_directories(tmp_path / "two.pth", inflated_mb=64)
    assert path.stat().st_size < 100_000
    with pytest.raises(
        CheckpointReadError, match=r"two\.pth' was not loaded: its central directory does not end"
    ):
        read_checkpoint(str(path))


def test_records_sharing_their_bytes_are_refused(tmp_path):
    """64 names for one stored megabyte, each loaded as its own storage: c52df3f returned 64 MB of tensors
    from a 1 MB file (a 4 MB one took 1.9 GB)."""
    path = overlapping_records(tmp_path / "over.pth", count=64, storage_mb=1)
    with pytest.raises(
        CheckpointReadError, match=r"over\.pth' was not loaded: its record .* is not where the one"
    ):
        read_checkpoint(str(path))


def _legacy_file(path, storages: dict[str, int], listed: list[str], view: tuple | None = None):
    """A legacy (pre-zip) checkpoint ``[tensor per storage]``: ``storages`` maps key -> claimed floats;
    ``listed`` are the keys the file's storage list names (each stored with its claimed size, values
    0, 1, 2, ...). With ``view`` = (key, offset, count) each tensor is that view of its storage, as torch
    before 1.0 saved slices."""
    with open(path, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(header, f, 2)
        ops = PickleAssembler()
        ops.code += pickle.EMPTY_LIST + pickle.MARK
        for key, numel in storages.items():
            size = numel if view is None or type(view[2]) is not int else view[2]
            ops.glob("torch._utils", "_rebuild_tensor_v2").code += pickle.MARK + pickle.MARK
            ops.str("storage").glob("torch", "FloatStorage").str(key).str("cpu").code += _int(numel)
            if view is None:
                ops.code += pickle.NONE
            else:
                ops.str(view[0]) if type(view[0]) is str else ops.code.extend(_int(view[0]))
                ops.code += _int(view[1]) + (_int(view[2]) if type(view[2]) is int else pickle.NONE)
                ops.code += pickle.TUPLE3
            ops.code += pickle.TUPLE + pickle.BINPERSID + _int(0) + _int(size) + pickle.TUPLE1
            ops.code += _int(1) + pickle.TUPLE1 + pickle.NEWFALSE + b"ccollections\nOrderedDict\n"
            ops.code += pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE + pickle.REDUCE
        f.write(bytes(ops.code + pickle.APPENDS + pickle.STOP))
        pickle.dump(listed, f, 2)
        for key in listed:
            values = struct.pack(f"<{storages[key]}f", *range(storages[key]))
            f.write(struct.pack("<q", storages[key]) + values)
    return path


def test_a_legacy_file_honestly_laid_out_loads(tmp_path):
    loaded = read_checkpoint(str(_legacy_file(tmp_path / "old.pth", {"0": 3, "1": 2}, ["1", "0"])))
    assert [t.tolist() for t in loaded] == [[0.0, 1.0, 2.0], [0.0, 1.0]]
    (sliced,) = read_checkpoint(str(_legacy_file(tmp_path / "view.pth", {"0": 5}, ["0"], view=("v", 1, 3))))
    assert sliced.tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("view", "refused"),
    [
        (("v", 3, 3), "a storage view .* outside its storage of 5"),
        (("v", 1, None), "a storage view .* outside"),
        ((7, 0, 1), "a storage view of unexpected form"),
    ],
    ids=["past-the-end", "count-not-int", "key-not-str"],
)
def test_legacy_storage_views_of_other_forms_are_refused(tmp_path, view, refused):
    path = _legacy_file(tmp_path / "old.pth", {"0": 5}, ["0"], view=view)
    with pytest.raises(UnsafeCheckpointError, match=rf"old\.pth.*refused {refused}"):
        read_checkpoint(str(path))


def test_legacy_storages_may_claim_no_more_than_the_bytes_left_after_the_pickle(tmp_path):
    """A claim of the file's whole size is more than what follows the pickle, whatever the list says."""
    size = _legacy_file(tmp_path / "probe.pth", {"0": 100}, []).stat().st_size
    path = _legacy_file(tmp_path / "old.pth", {"0": size // 4}, [])
    with pytest.raises(UnsafeCheckpointError, match=r"refused storages of \d+ bytes in a file of"):
        read_checkpoint(str(path))


@pytest.mark.parametrize(
    ("storages", "listed", "refused"),
    [
        ({"0": 3, "1": 2}, ["0"], "a storage key list other than the storages its tensors use"),
        ({"0": 1 << 28}, [], "storages of 1073741824 bytes in a file of"),
        ({"0": 3}, ["0", "0"], "a storage key list other than"),
    ],
    ids=["unlisted", "claims-1-GB", "listed-twice"],
)
def test_legacy_storages_are_read_from_the_file_or_refused(tmp_path, storages, listed, refused):
    """c52df3f (torch's legacy reader) allocated every storage a tensor claims, before reading any, and
    filled only those the list names: the unlisted one came back as uninitialised memory, and a claim of
    1 GB was allocated from a 400-byte file."""
    path = _legacy_file(tmp_path / "old.pth", storages, listed)
    with pytest.raises(UnsafeCheckpointError, match=rf"old\.pth.*refused {refused}"):
        read_checkpoint(str(path))


def test_names_from_the_file_are_escaped_and_bounded_in_messages(tmp_path):
    """A global named with terminal escape sequences (here: clear the screen, then a fake success line) was
    printed raw; a 6 MB dtype name gave a 6 MB message."""
    ops = PickleAssembler()
    ops.glob("os\x1b[2J\x1b[32mall checks passed", "system").code += pickle.STOP
    path = save_raw_pickle(tmp_path / "escape.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError) as error:
        read_checkpoint(str(path))
    assert "\x1b" not in str(error.value) and "refused 'os\\x1b[2J" in str(error.value)
    ops = PickleAssembler()
    ops.glob("numpy", "dtype").str("f" * 6_000_000).code += pickle.TUPLE1 + pickle.REDUCE + pickle.STOP
    path = save_raw_pickle(tmp_path / "long.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=r"long\.pth.*refused numpy dtype 'fff") as error:
        read_checkpoint(str(path))
    assert len(str(error.value)) < 1000


def test_a_quantized_storage_without_its_quantizer_is_refused(tmp_path):
    """A plain tensor on a QUInt8Storage: c52df3f loaded it, and printing or copying it failed with
    torch's "INTERNAL ASSERT FAILED ... please report a bug to PyTorch"."""
    ops = PickleAssembler()
    ops.glob("torch._utils", "_rebuild_tensor_v2").code += pickle.MARK + pickle.MARK
    ops.str("storage").glob("torch", "QUInt8Storage").str("0").str("cpu").code += _int(4) + pickle.TUPLE
    ops.code += (
        pickle.BINPERSID + _int(0) + _int(4) + pickle.TUPLE1 + _int(1) + pickle.TUPLE1 + pickle.NEWFALSE
    )
    ops.code += (
        b"ccollections\nOrderedDict\n" + pickle.EMPTY_TUPLE + pickle.REDUCE + pickle.TUPLE + pickle.REDUCE
    )
    _zip_checkpoint(tmp_path / "q.pth", bytes(ops.code + pickle.STOP), bytes(4))
    with pytest.raises(UnsafeCheckpointError, match=r"q\.pth.*refused a torch\.quint8 tensor"):
        read_checkpoint(str(tmp_path / "q.pth"))


def test_every_opcode_outside_torchs_weights_only_set_is_refused_by_name(tmp_path):
    """The unpickler runs the opcodes torch's weights-only unpickler runs (and the six paddle.save adds:
    tests/models/test_checkpoint_protocol4.py) and names any other."""
    for opcode, name in (
        (pickle.POP, "POP"),
        (pickle.NEWOBJ_EX, "NEWOBJ_EX"),
        (pickle.BINUNICODE8 + bytes(8), "BINUNICODE8"),
        (pickle.BYTEARRAY8 + bytes(8), "BYTEARRAY8"),
        (pickle.NEXT_BUFFER, "NEXT_BUFFER"),
    ):
        path = save_raw_pickle(
            tmp_path / "op.pth", pickle.PROTO + b"\x04" + pickle.NONE + opcode + pickle.STOP
        )
        with pytest.raises(UnsafeCheckpointError, match=rf"op\.pth.*refused the pickle opcode {name} "):
            read_checkpoint(str(path))


_CHILD = """
import resource, sys
from visionkit.models import CheckpointReadError, read_checkpoint
print("imported -", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10, flush=True)
for path in sys.argv[1:]:
    try:
        read_checkpoint(path)
        print("loaded", path)
    except CheckpointReadError as error:
        print("refused", path, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss >> 10, flush=True)
"""


@pytest.mark.slow
def test_files_that_crashed_hung_or_inflated_are_refused_in_a_child_process(tmp_path):
    """Loaded in a child process, so that a crash fails this test instead of ending the session. c52df3f:
    the million-deep tuple used as a key crashed (SIGSEGV), the 60-level shared tuple key hashed without
    end, the 1 MB archive inflated to 1 GB. Now each is refused, the child's peak memory stays within its
    import (about 0.7 GB) + 256 MB, and all three take seconds."""
    deep = pickle.PROTO + b"\x02" + pickle.EMPTY_DICT + pickle.NONE + pickle.TUPLE1 * 1_000_000
    files = [save_raw_pickle(tmp_path / "deep.pth", deep + pickle.NONE + pickle.SETITEM + pickle.STOP)]
    ops = _shared_tuples(60)
    ops.code = (
        bytearray(pickle.PROTO + b"\x02" + pickle.EMPTY_DICT) + ops.code[2:] + pickle.NONE + pickle.SETITEM
    )
    files.append(save_raw_pickle(tmp_path / "hash.pth", bytes(ops.code + pickle.STOP)))
    files.append(two_directories(tmp_path / "bomb.pth", inflated_mb=1024))
    result = subprocess.run(
        [sys.executable, "-c", _CHILD, *map(str, files)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr[-2000:])
    (_, _, imported), *lines = [line.split() for line in result.stdout.splitlines()]
    assert [(w[0], w[1]) for w in lines] == [("refused", str(f)) for f in files]
    assert max(int(w[2]) for w in lines) < int(imported) + 256, result.stdout


def test_records_with_flags_torch_never_writes_are_refused(tmp_path):
    """An encrypted record (general-purpose flag bit 0), set in each directory entry as a patched file
    would: refused by name, before any record is read."""
    path = tmp_path / "encrypted.pth"
    torch.save({"w": torch.ones(2)}, path)
    data = bytearray(path.read_bytes())
    at = data.find(struct.pack("<I", 0x02014B50))
    while at >= 0:
        data[at + 8] |= 0x01
        at = data.find(struct.pack("<I", 0x02014B50), at + 4)
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointReadError, match=r"encrypted\.pth.*has flags 0x"):
        read_checkpoint(str(path))
