"""safetensors files (timm's and the Hugging Face hub's format): honest files load as the package saves them;
a header that does not describe its data exactly is refused by visionkit before the package parses it."""

from __future__ import annotations

import json
import struct

import pytest
import safetensors
import torch
from safetensors.torch import save_file

from visionkit.models import CheckpointReadError, checkpoint_safetensors, read_checkpoint

TENSORS = {
    "a": torch.arange(6, dtype=torch.float32).reshape(2, 3),
    "b": torch.tensor([1, 2], dtype=torch.int64),
    "c": torch.ones(2, dtype=torch.bfloat16),
    "empty": torch.zeros(0, 4),
}


def raw_file(path, header: dict | bytes, data: bytes) -> str:
    """A safetensors layout with any header: 8-byte length, the header, the data."""
    encoded = header if isinstance(header, bytes) else json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)
    return str(path)


def test_an_honest_file_loads_as_saved(tmp_path):
    path = tmp_path / "model.safetensors"
    save_file(TENSORS, str(path), metadata={"format": "pt"})
    loaded = read_checkpoint(str(path))
    assert sorted(loaded) == sorted(TENSORS)
    for name, tensor in TENSORS.items():
        assert loaded[name].dtype == tensor.dtype
        torch.testing.assert_close(loaded[name], tensor, rtol=0, atol=0)


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}


@pytest.mark.parametrize(
    ("header", "data", "refused"),
    [
        ({"a": F32, "b": {**F32, "data_offsets": [4, 12]}}, bytes(12), "overlap at byte 4"),
        ({"a": F32, "b": {**F32, "data_offsets": [12, 20]}}, bytes(20), "leave a gap at byte 12"),
        ({"a": F32}, bytes(16), "8 bytes at its end belong to no tensor"),
        ({"a": {**F32, "data_offsets": [0, 16]}}, bytes(8), "outside the file's 8 bytes of data"),
        ({"a": {**F32, "shape": [3]}}, bytes(8), r"shape \[3\] spans 8 bytes"),
        ({"a": {**F32, "shape": [1]}}, bytes(8), r"shape \[1\] spans 8 bytes"),
        ({"a": {**F32, "dtype": "O"}}, bytes(8), "dtype 'O': only numeric dtypes load"),
        ({"a": {**F32, "shape": [-2]}}, bytes(8), r"shape \[-2\]"),
        ({"a": {**F32, "shape": [1] * 33}}, bytes(8), "has shape"),
        ({"a": {**F32, "shape": [0, 1 << 40], "data_offsets": [0, 0]}}, b"", "is empty with sizes"),
        ({"a": {**F32, "extra": 1}}, bytes(8), "entry other than dtype, shape and data_offsets"),
        ({"a": F32, "__metadata__": {"k": 1}}, bytes(8), "__metadata__ is not strings"),
        (
            b'{"a": ' + json.dumps(F32).encode() + b', "a": ' + json.dumps(F32).encode() + b"}",
            bytes(8),
            "twice",
        ),
        (b"{" + b"[" * 100_000 + b"]" * 100_000 + b"}", b"", r"not JSON \((RecursionError|JSONDecodeError)"),
        (b'{"a": \xff}', b"", r"not JSON \((UnicodeDecodeError|JSONDecodeError)"),
    ],
    ids=[
        "overlap",
        "gap",
        "trailing",
        "outside",
        "count",
        "count-short",
        "dtype",
        "negative",
        "dims",
        "empty-extent",
        "entry",
        "metadata",
        "duplicate",
        "deep",
        "bytes",
    ],
)
def test_a_header_that_does_not_describe_its_data_is_refused_first(
    tmp_path, monkeypatch, header, data, refused
):
    def never(*args, **kwargs):
        raise AssertionError("the safetensors package was given a file visionkit refuses")

    monkeypatch.setattr(safetensors, "safe_open", never)
    path = raw_file(tmp_path / "bad.safetensors", header, data)
    with pytest.raises(CheckpointReadError, match=rf"bad\.safetensors' was not loaded: .*{refused}"):
        read_checkpoint(path)


def test_a_header_longer_than_the_limit_is_refused_unread(tmp_path, monkeypatch):
    """The header is read into memory and parsed: at most MAX_HEADER_BYTES (16 MiB; 1 kB here)."""
    monkeypatch.setattr(checkpoint_safetensors, "MAX_HEADER_BYTES", 1024)
    header = {f"t{i}": {**F32, "data_offsets": [8 * i, 8 * i + 8]} for i in range(40)}
    path = raw_file(tmp_path / "long.safetensors", header, bytes(8 * 40))
    with pytest.raises(
        CheckpointReadError, match=r"long\.safetensors.*header claims \d+ bytes; at most 0 MiB"
    ):
        read_checkpoint(path)
