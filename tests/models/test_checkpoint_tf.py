"""TF checkpoints (TensorBundle: ``.index`` + ``.data-*``) and TF release archives read without TensorFlow.

The bundles are written byte for byte as TF lays them out (``tests/models/tensor_bundles.py``); files that TF
itself wrote are read in ``test_tf_checkpoints.py``. Each hostile variant must fail with an error naming the
file, before it costs more than its size.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tests.models.tensor_bundles import field, write_bundle
from tests.models.test_checkpoint_fetch import Server
from visionkit.models import CheckpointFetchError, CheckpointReadError, UnsafeCheckpointError, read_checkpoint
from visionkit.models.checkpoint_fetch import expected_hash_prefix
from visionkit.models.crc32c import crc32c
from visionkit.models.tf_releases import PINNED_SHA256, SSDLITE_COCO, mobilenet_v2_url

TENSORS = {
    "MobilenetV2/Conv/weights": np.arange(3 * 3 * 3 * 8, dtype="<f4").reshape(3, 3, 3, 8) / 7,
    "MobilenetV2/Conv/BatchNorm/moving_variance": np.linspace(0.5, 2, 8, dtype="<f4"),
    "global_step": np.array(30000, dtype="<i8"),
    "counts": np.arange(6, dtype="<f8").reshape(2, 3),
}


def _equal(loaded: dict, expected: dict) -> None:
    assert sorted(loaded) == sorted(expected)
    for name, array in expected.items():
        assert loaded[name].shape == array.shape and np.array_equal(loaded[name].numpy(), array), name


def _tgz(path: Path, members: dict[str, bytes | str]) -> Path:
    """A gzipped tar of ``members`` (name -> bytes, or a str: a symbolic link to that target)."""
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return path


def _release(tmp_path: Path, folder: str = "model_2018/") -> dict[str, bytes]:
    prefix = write_bundle(tmp_path / "model.ckpt", TENSORS)
    return {
        f"{folder}model.ckpt.index": Path(f"{prefix}.index").read_bytes(),
        f"{folder}model.ckpt.data-00000-of-00001": Path(f"{prefix}.data-00000-of-00001").read_bytes(),
        f"{folder}frozen_inference_graph.pb": b"not read",
    }


def test_crc32c_matches_the_standard_check_values():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C catalogue's check value
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4
    assert crc32c(bytes(range(32))) == 0x46DD794E
    data = np.random.default_rng(0).integers(0, 256, 100_003, dtype=np.uint8).tobytes()
    halves = crc32c(data[:50_000]), crc32c(data)
    assert halves[0] != halves[1] and crc32c(data[:-1] + bytes([data[-1] ^ 1])) != halves[1]


@pytest.mark.parametrize("suffix", ["", ".index", ".data-00000-of-00001"])
def test_a_bundle_reads_by_prefix_index_or_data_file(tmp_path, suffix):
    prefix = write_bundle(tmp_path / "model.ckpt-30000", TENSORS)
    _equal(read_checkpoint(f"{prefix}{suffix}"), TENSORS)


def test_a_release_archive_reads_its_checkpoint_only(tmp_path):
    archive = _tgz(tmp_path / "release.tar.gz", _release(tmp_path))
    _equal(read_checkpoint(str(archive)), TENSORS)
    renamed = archive.rename(tmp_path / "download.partial")  # a download in progress: gzip by its bytes
    _equal(read_checkpoint(str(renamed)), TENSORS)


def test_a_corrupted_byte_names_the_file_and_the_tensor(tmp_path):
    prefix = write_bundle(tmp_path / "model.ckpt", TENSORS)
    data = Path(f"{prefix}.data-00000-of-00001")
    raw = bytearray(data.read_bytes())
    raw[5] ^= 0x10  # inside the first tensor (names are sorted: 'MobilenetV2/Conv/BatchNorm/...')
    data.write_bytes(bytes(raw))
    with pytest.raises(CheckpointReadError, match=r"model\.ckpt.*BatchNorm/moving_variance.*CRC-32C"):
        read_checkpoint(str(prefix))
    index = Path(f"{prefix}.index")
    raw = bytearray(index.read_bytes())
    raw[12] ^= 0x01
    index.write_bytes(bytes(raw))
    with pytest.raises(CheckpointReadError, match="index block fails its CRC-32C"):
        read_checkpoint(str(prefix))


def test_a_truncated_index_or_data_file_is_named(tmp_path):
    prefix = write_bundle(tmp_path / "model.ckpt", TENSORS)
    data = Path(f"{prefix}.data-00000-of-00001")
    data.write_bytes(data.read_bytes()[:-10])
    with pytest.raises(UnsafeCheckpointError, match=r"'.*model\.ckpt'.*claim \d+ bytes of a \d+-byte"):
        read_checkpoint(str(prefix))
    index = Path(f"{prefix}.index")
    index.write_bytes(index.read_bytes()[:-3])
    with pytest.raises(CheckpointReadError, match="no SSTable footer"):
        read_checkpoint(str(prefix))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda e: e.update(size=e["size"] * 1000), "claims .* bytes for shape"),
        (lambda e: e.update(shape=(1 << 40, 1 << 30), size=1 << 62), "claims .* bytes for shape"),
        (lambda e: e.update(shape=(1,) * 33, size=4), "> 32 dims"),
        (lambda e: e.update(dtype=20), "TF dtype 20"),
        (lambda e: e.update(shard=3), "names shard 3 of 1"),
        (lambda e: e.update(slices=[field(1, b"")]), "partitioned variable"),
    ],
)
def test_an_index_that_claims_more_than_its_files_is_refused(tmp_path, edit, message):
    tensors = {f"t{i}": np.full(64, i, dtype="<f4") for i in range(4)}
    prefix = write_bundle(tmp_path / "model.ckpt", tensors, lambda name, entry: edit(entry))
    with pytest.raises((UnsafeCheckpointError, CheckpointReadError), match=message):
        read_checkpoint(str(prefix))


def test_names_that_repeat_a_long_prefix_are_refused(tmp_path):
    stem = "x" * 4000
    tensors = {f"{stem}{i:05d}": np.zeros(1, dtype="<f4") for i in range(300)}
    prefix = write_bundle(tmp_path / "model.ckpt", tensors)
    assert Path(f"{prefix}.index").stat().st_size < 60_000  # prefix compression: 1.2 MB of names
    with pytest.raises(UnsafeCheckpointError, match="16 per byte of the index"):
        read_checkpoint(str(prefix))
    prefix = write_bundle(tmp_path / "long", {"y" * 5000: np.zeros(1, dtype="<f4")})
    with pytest.raises(UnsafeCheckpointError, match="longer than 4096 bytes"):
        read_checkpoint(str(prefix))


def test_archive_members_never_leave_the_scratch_folder(tmp_path):
    members = {f"../../escape/{name.split('/')[-1]}": data for name, data in _release(tmp_path).items()}
    archive = _tgz(tmp_path / "release.tgz", members)
    _equal(read_checkpoint(str(archive)), TENSORS)
    assert not (tmp_path.parent / "escape").exists() and not Path("/escape").exists()
    linked = _release(tmp_path, "")
    linked["model.ckpt.index"] = "/etc/passwd"
    with pytest.raises(UnsafeCheckpointError, match=r"'model.ckpt.index' is a link"):
        read_checkpoint(str(_tgz(tmp_path / "linked.tgz", linked)))


def test_archives_without_exactly_one_checkpoint_are_refused(tmp_path):
    release = _release(tmp_path)
    two = {**release, **{k.replace("model_2018", "other"): v for k, v in release.items()}}
    with pytest.raises(UnsafeCheckpointError, match=r"holds 'model.ckpt.index' twice"):
        read_checkpoint(str(_tgz(tmp_path / "two.tgz", two)))
    none = {"a/frozen_inference_graph.pb": b"x"}
    with pytest.raises(UnsafeCheckpointError, match="holds 0 TF checkpoints"):
        read_checkpoint(str(_tgz(tmp_path / "none.tgz", none)))


def test_an_archive_declaring_more_than_64_bytes_per_byte_is_refused_unread(tmp_path):
    """A member's header claims 1 TiB: refused at its header, before any of it is inflated."""
    info = tarfile.TarInfo("filler.bin")
    info.size = 1 << 40
    path = tmp_path / "bomb.tgz"
    import gzip

    with gzip.open(path, "wb") as file:
        file.write(info.tobuf(format=tarfile.GNU_FORMAT) + bytes(1 << 16))
    with pytest.raises(UnsafeCheckpointError, match=r"more than \d+ bytes, 64 per byte of the archive"):
        read_checkpoint(str(path))


def test_release_urls_are_pinned_and_a_fragment_pins_any_url(tmp_path, monkeypatch):
    assert len(PINNED_SHA256) == 24
    assert expected_hash_prefix(SSDLITE_COCO) == expected_hash_prefix(SSDLITE_COCO.replace("http:", "https:"))
    assert expected_hash_prefix(mobilenet_v2_url("1.0_224")).startswith("318084bc")
    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path / "cache"))
    archive = _tgz(tmp_path / "release.tgz", _release(tmp_path)).read_bytes()
    server = Server()
    try:
        server.files["model.tgz"] = archive
        good = hashlib.sha256(archive).hexdigest()
        _equal(read_checkpoint(server.url(f"model.tgz#sha256={good}")), TENSORS)
        bad = server.url(f"model.tgz#sha256={'0' * 64}")
        with pytest.raises(CheckpointFetchError, match=r"failed its hash check.*0000000000"):
            read_checkpoint(bad)
        with pytest.raises(CheckpointFetchError, match="not #sha256=<64 hex digits>"):
            read_checkpoint(server.url("model.tgz#md5=1234"))
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
    assert not any("escape" in p for p in os.listdir(tmp_path))
