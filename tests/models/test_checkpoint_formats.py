"""visionkit reads a checkpoint by its content, whatever its name, and names the family of a file it does not
read (an exported model, a packed archive, an error page saved as the download)."""

from __future__ import annotations

import gzip
import io
import pickle

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from visionkit.models import CheckpointReadError, read_checkpoint
from visionkit.models.checkpoint_formats import FORMATS, identify

STATE = {"conv.weight": torch.arange(24, dtype=torch.float32).reshape(2, 3, 2, 2), "conv.bias": torch.ones(2)}


def torch_zip(path) -> None:
    torch.save(STATE, path)


def torch_legacy(path) -> None:
    torch.save(STATE, path, _use_new_zipfile_serialization=False)


def safetensors_file(path) -> None:
    save_file(STATE, str(path))


def paddle_pickle(path) -> None:
    """As paddle.save writes a state dict: names -> numpy arrays and its table of parameter names."""
    arrays = {name: tensor.numpy() for name, tensor in STATE.items()}
    arrays["StructuredToParameterName@@"] = {name: f"param_{i}" for i, name in enumerate(STATE)}
    path.write_bytes(pickle.dumps(arrays, protocol=4))


@pytest.mark.parametrize("write", [torch_zip, torch_legacy, safetensors_file, paddle_pickle])
@pytest.mark.parametrize("suffix", [".pth", ".safetensors", ".pdparams", ""])
def test_each_family_loads_by_content_whatever_its_name(tmp_path, write, suffix):
    path = tmp_path / f"weights{suffix}"
    write(path)
    loaded = read_checkpoint(str(path))
    assert sorted(loaded) == sorted(STATE)
    for name, tensor in STATE.items():
        assert type(loaded[name]) is torch.Tensor
        torch.testing.assert_close(loaded[name], tensor, rtol=0, atol=0)


def _onnx_like() -> bytes:
    """The first fields of an ONNX ModelProto as torch.onnx.export writes them: ir_version 8, producer."""
    return b"\x08\x08\x12\x07pytorch\x1a\x052.14.1" + bytes(64)


def _tf_index() -> bytes:
    """A LevelDB table footer: block handles, padding, the table magic number (little-endian)."""
    return bytes(40) + (0xDB4775248B80FB57).to_bytes(8, "little")


def _npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    return buffer.getvalue()


def _zipped_checkpoint() -> bytes:
    buffer = io.BytesIO()
    torch.save(STATE, buffer)
    return gzip.compress(buffer.getvalue())


@pytest.mark.parametrize(
    ("data", "family"),
    [
        (_onnx_like(), "an ONNX model.*--runtime"),
        (_tf_index(), r"a TensorFlow checkpoint index \(\.ckpt\.index"),
        (bytes(4) + b"ET12" + bytes(64), r"an ExecuTorch program \(\.pte\).*--runtime executorch"),
        (_zipped_checkpoint(), r"a gzip-compressed file.*extract it"),
        (b"\x89HDF\r\n\x1a\n" + bytes(64), "an HDF5 file"),
        (_npy(), r"a NumPy \.npy array"),
        (b"\n<!DOCTYPE html><html><body>404 Not Found</body></html>", "an HTML or XML page.*error page"),
    ],
    ids=["onnx", "tf-index", "pte", "gzip", "hdf5", "npy", "html"],
)
def test_a_file_of_another_family_is_named(tmp_path, data, family):
    path = tmp_path / "model.pth"
    path.write_bytes(data)
    with pytest.raises(CheckpointReadError, match=rf"model\.pth' was not loaded: it looks like {family}"):
        read_checkpoint(str(path))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (
            b"\x1b[31mred\x00 bytes",
            r"it is none of the formats .*; it starts with b'\\x1b\[31mred\\x00 bytes'",
        ),
        (pickle.dumps({"a": 1}, protocol=1), r"it is none of the formats visionkit reads \(PyTorch"),
    ],
    ids=["empty", "unknown", "protocol-1-pickle"],
)
def test_a_file_of_no_known_family_shows_its_first_bytes(tmp_path, data, message):
    path = tmp_path / "weights.pth"
    path.write_bytes(data)
    with pytest.raises(CheckpointReadError, match=rf"weights\.pth' was not loaded: {message}"):
        read_checkpoint(str(path))


def test_families_are_told_apart_by_their_first_bytes_only(tmp_path):
    """A legacy torch file is also a pickle; a safetensors header length could look like anything: each file
    is identified as the family that wrote it, in FORMATS' order."""
    names = {}
    for write in (torch_zip, torch_legacy, safetensors_file, paddle_pickle):
        path = tmp_path / write.__name__
        write(path)
        with open(path, "rb") as file:
            names[write.__name__] = identify(file).name
    assert names == {
        "torch_zip": "a PyTorch zip checkpoint",
        "torch_legacy": "a legacy PyTorch checkpoint",
        "safetensors_file": "a safetensors file",
        "paddle_pickle": "a plain pickle",
    }
    assert len({family.name for family in FORMATS}) == len(FORMATS)
