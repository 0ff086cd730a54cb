"""Crafted pickles that stay within the unpickler's allowlist but abuse how pickle's opcodes use it.

Each was loaded (and did what it asked) by the unpickler of 8538735; each must now be refused by name.
"""

from __future__ import annotations

import pickle
import re
import tarfile
import zipfile

import pytest
import torch

from tests.engine.hostile_checkpoints import PickleAssembler, pickle_string, save_raw_pickle
from visionkit.models import CheckpointReadError, UnsafeCheckpointError, read_checkpoint


def _config_dict_with(ops: PickleAssembler, key: str, module: str, name: str) -> None:
    """Push ``ConfigDict({key: <module.name>})``: an allow-listed callable stored as a value."""
    ops.glob("mmengine.config.config", "ConfigDict")
    ops.code += pickle.EMPTY_DICT
    ops.str(key).glob(module, name)
    ops.code += pickle.SETITEM + pickle.TUPLE1 + pickle.REDUCE


@pytest.mark.parametrize(
    ("key", "opcodes", "refused"),
    [
        ("extend", pickle.MARK + pickle.BININT1 + b"\x02" + pickle.APPENDS, "APPENDS into a dict"),
        ("append", pickle.BININT1 + b"\x02" + pickle.APPEND, "APPEND into a dict"),
        ("add", pickle.MARK + pickle.BININT1 + b"\x02" + pickle.ADDITEMS, "the pickle opcode ADDITEMS"),
        ("x", pickle_string("y") + pickle.BININT1 + b"\x02" + pickle.SETITEM, "<class 'numpy.ndarray'>"),
        (
            "x",
            pickle.MARK + pickle_string("y") + pickle.BININT1 + b"\x02" + pickle.SETITEMS,
            "<class 'numpy.",
        ),
    ],
    ids=["APPENDS", "APPEND", "ADDITEMS", "SETITEM", "SETITEMS"],
)
def test_container_opcodes_on_a_config_dict_are_refused(tmp_path, key, opcodes, refused):
    """APPENDS looks up ``.extend`` on whatever is on the stack (ADDITEMS ``.add``); a ConfigDict answered
    with its own value, so a stored ``numpy.ndarray`` (allow-listed as a value, never as a call) was called
    with file data. A ConfigDict now comes back as the plain dict it was pickled from, items go only into
    pickle's own list and dict (ADDITEMS, which torch's unpickler does not run, not at all), and a value
    that is not plain data (the class itself) is refused in the result."""
    ops = PickleAssembler()
    _config_dict_with(ops, key, "numpy", "ndarray")
    ops.code += opcodes + pickle.STOP
    path = save_raw_pickle(tmp_path / "container.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=rf"container\.pth.*refused {re.escape(refused)}"):
        read_checkpoint(str(path))


def _int(value: int) -> bytes:
    return pickle.BININT + value.to_bytes(4, "little", signed=True)


def _latin1_bytes(ops: PickleAssembler, data: bytes) -> None:
    """Push ``data`` as protocol 2 writes bytes: ``_codecs.encode(text, 'latin1')``."""
    ops.glob("_codecs", "encode").str(data.decode("latin1")).str("latin1")
    ops.code += pickle.TUPLE2 + pickle.REDUCE


def test_a_dtype_state_cannot_set_flags_of_an_array_already_built(tmp_path):
    """Array built with a float64 dtype, then that dtype's BUILD sets flags 1 (``hasobject``): numpy took
    the raw float bytes for an object array and failed inside ("Internal error, get_clear_loop not set").
    Protocol 2 only (torch's opcodes, no POP): dtype and array go into a list, the dtype's BUILD after."""
    ops = PickleAssembler()
    ops.code += pickle.EMPTY_LIST
    ops.glob("numpy", "dtype").str("f8")
    ops.code += pickle.NEWFALSE + pickle.NEWTRUE + pickle.TUPLE3 + pickle.REDUCE
    dtype = ops.put()
    ops.code += pickle.APPEND
    ops.glob("numpy.core.multiarray", "_reconstruct").glob("numpy", "ndarray")
    ops.code += _int(0) + pickle.TUPLE1
    ops.str("b").code += pickle.TUPLE3 + pickle.REDUCE
    ops.code += pickle.MARK + _int(1) + _int(2) + pickle.TUPLE1
    ops.get(dtype).code += pickle.NEWFALSE
    _latin1_bytes(ops, b"A" * 16)
    ops.code += pickle.TUPLE + pickle.BUILD + pickle.APPEND  # [dtype, array]
    ops.get(dtype).code += pickle.MARK + _int(3)
    ops.str("<").code += pickle.NONE * 3 + _int(-1) + _int(-1) + _int(1) + pickle.TUPLE + pickle.BUILD
    ops.code += pickle.STOP
    path = save_raw_pickle(tmp_path / "flags.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=r"flags\.pth.*refused numpy dtype state"):
        read_checkpoint(str(path))


def test_a_compressed_record_is_refused_before_it_expands(tmp_path):
    """A 20 kB file whose deflated data.pkl is a 20 MB string: torch.save never compresses, torch.load
    inflates whatever it is given (a few hundred kB made 2 GB of memory)."""
    path = tmp_path / "bomb.pth"
    torch.save({}, path)
    with zipfile.ZipFile(path) as original:
        records = {name: original.read(name) for name in original.namelist()}
    size = 20_000_000
    text = pickle.BINUNICODE + size.to_bytes(4, "little") + b"a" * size
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in records.items():
            if name.endswith("/data.pkl"):
                archive.writestr(name, pickle.PROTO + b"\x02" + text + pickle.STOP, zipfile.ZIP_DEFLATED)
            else:
                archive.writestr(name, data, zipfile.ZIP_STORED)
    assert path.stat().st_size < 100_000
    with pytest.raises(CheckpointReadError, match=r"bomb\.pth' was not loaded: its records .* compressed"):
        read_checkpoint(str(path))


def _legacy(path, main: bytes):
    """A legacy (non-zip) torch checkpoint whose main pickle is ``main``."""
    with open(path, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001}):
            pickle.dump(header, f, 2)
        f.write(main)
        pickle.dump([], f, 2)
    return path


def test_a_legacy_module_persistent_id_is_refused(tmp_path):
    """torch's legacy loader answers ('module', class, file, source) by reading the class's source and
    diffing it (writing a .patch file for classes with dump_patches); it failed only by luck."""
    ops = PickleAssembler()
    ops.code += pickle.MARK
    ops.str("module").glob("collections", "OrderedDict").str("x.py").str("class X: pass")
    ops.code += pickle.TUPLE + pickle.BINPERSID + pickle.STOP
    path = _legacy(tmp_path / "module.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=r"module\.pth.*a persistent id other than a storage"):
        read_checkpoint(str(path))


def test_a_legacy_tar_checkpoint_is_refused(tmp_path):
    """torch.load extracts a tar checkpoint's 'storages' member to disk, symbolic links included."""
    path = tmp_path / "old.pth"
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        link = tarfile.TarInfo("storages")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/hostname"
        tar.addfile(link)
    refused = r"old\.pth' was not loaded: it looks like a tar archive.*PyTorch before 0\.4"
    with pytest.raises(CheckpointReadError, match=refused):
        read_checkpoint(str(path))


def test_an_ordered_dict_takes_no_attribute_but_a_state_dicts_metadata(tmp_path):
    """BUILD on an OrderedDict may set ``_metadata`` (what torch's state dicts carry) and nothing beside
    it: an extra attribute, here one shadowing ``update``, is refused."""
    ops = PickleAssembler()
    ops.glob("collections", "OrderedDict")
    ops.code += pickle.EMPTY_TUPLE + pickle.REDUCE
    ops.code += pickle.EMPTY_DICT + pickle_string("_metadata") + pickle.EMPTY_DICT + pickle.SETITEM
    ops.code += pickle_string("update") + pickle.BININT1 + b"\x02" + pickle.SETITEM
    ops.code += pickle.BUILD + pickle.STOP
    path = save_raw_pickle(tmp_path / "attrs.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=r"attrs\.pth.*OrderedDict attributes"):
        read_checkpoint(str(path))


def test_values_allowed_as_arguments_are_never_called(tmp_path):
    """``numpy.ndarray`` is allowed as ``_reconstruct``'s argument; called, it would allocate any shape
    uninitialised."""
    ops = PickleAssembler()
    ops.glob("numpy", "ndarray").code += _int(1 << 30) + pickle.TUPLE1 + pickle.REDUCE + pickle.STOP
    path = save_raw_pickle(tmp_path / "call.pth", bytes(ops.code))
    with pytest.raises(UnsafeCheckpointError, match=r"call\.pth.*refused a call to ndarray"):
        read_checkpoint(str(path))


def test_a_state_dicts_metadata_holds_module_versions_only(tmp_path):
    """``_metadata`` reaches every module's ``_load_from_state_dict``: a version that is not a number made
    BatchNorm's comparison fail with a traceback."""
    ops = PickleAssembler()
    ops.glob("collections", "OrderedDict")
    ops.code += pickle.EMPTY_TUPLE + pickle.REDUCE
    ops.code += pickle.EMPTY_DICT + pickle_string("_metadata") + pickle.EMPTY_DICT + pickle_string("bn")
    ops.code += (
        pickle.EMPTY_DICT + pickle_string("version") + pickle.EMPTY_LIST + pickle.SETITEM + pickle.SETITEM
    )
    ops.code += pickle.SETITEM + pickle.BUILD + pickle.STOP
    path = save_raw_pickle(tmp_path / "meta.pth", bytes(ops.code))
    with pytest.raises(
        UnsafeCheckpointError, match=r"meta\.pth.*a state dict _metadata other than module versions"
    ):
        read_checkpoint(str(path))
