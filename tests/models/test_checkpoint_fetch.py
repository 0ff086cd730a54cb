"""Fetching checkpoints by URL: once into visionkit's own cache, hash-checked, whole or not at all, read
safely.

A real HTTP server on 127.0.0.1 (a thread of the test process) serves the files; nothing leaves the machine.
Hostile servers (endless, silent, dripping, truncating) are bounded in time by the server itself, so a
client without limits fails the test instead of hanging it.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models import detection, segmentation

from tests.engine.hostile_checkpoints import reduce_payload
from visionkit.models import (
    CheckpointFetchError,
    CheckpointReadError,
    UnsafeCheckpointError,
    checkpoint_fetch,
    load_checkpoint,
    read_checkpoint,
)
from visionkit.models.checkpoint_fetch import cache_dir, cache_path, expected_hash_prefix, torchvision_url


class Server:
    """Serves ``files`` (name -> bytes) as an HTTP/1.0 server; ``behaviour[name]`` makes one hostile:
    ``truncated`` (half the bytes, then hang up), ``unannounced`` (no Content-Length, half the bytes),
    ``endless`` (64 MiB without Content-Length), ``silent`` (headers, then 5 s of nothing) or ``drip``
    (one byte every 0.05 s, 100 bytes)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.behaviour: dict[str, str] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                server.requests.append(name)
                if name not in server.files:
                    self.send_error(404)
                    return
                data, behaviour = server.files[name], server.behaviour.get(name)
                self.send_response(200)
                if behaviour not in ("unannounced", "endless", "drip"):
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self._send(data, behaviour)
                except OSError:  # the client gave up, as it should
                    pass

            def _send(self, data: bytes, behaviour: str | None) -> None:
                if behaviour in ("truncated", "unannounced"):
                    self.wfile.write(data[: len(data) // 2])
                elif behaviour == "endless":
                    for _ in range(64):
                        self.wfile.write(b"\0" * (1 << 20))
                elif behaviour == "silent":
                    time.sleep(5)
                elif behaviour == "drip":
                    for byte in data[:100]:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(0.05)
                else:
                    self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}/{name}"

    def publish(self, stem: str, data: bytes, hashed: bool = True) -> str:
        """Serve ``data`` as ``stem-<sha256[:8]>.pth`` (as torchvision names files) or ``stem.pth``."""
        name = f"{stem}-{hashlib.sha256(data).hexdigest()[:8]}.pth" if hashed else f"{stem}.pth"
        self.files[name] = data
        return name


@pytest.fixture
def server():
    server = Server()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture
def cache(monkeypatch, tmp_path) -> Path:
    """visionkit's checkpoint cache under ``$VISIONKIT_CACHE``; torch.hub's folder is ``$TORCH_HOME``."""
    monkeypatch.setenv("VISIONKIT_CACHE", str(tmp_path / "visionkit"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    assert cache_dir() == str(tmp_path / "visionkit" / "checkpoints")
    return tmp_path / "visionkit" / "checkpoints"


def files_under(folder: Path) -> list[str]:
    """Every file below ``folder`` (relative paths), hidden ones included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def checkpoint_bytes(module: nn.Module) -> bytes:
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getvalue()


def test_a_url_is_downloaded_once_and_hash_checked(server, cache):
    source = nn.Linear(4, 3)
    name = server.publish("linear", checkpoint_bytes(source))
    for _ in range(2):
        model = nn.Linear(4, 3)
        load_checkpoint(model, server.url(name))
        torch.testing.assert_close(model.weight, source.weight)
    assert server.requests == [name]
    entry = os.path.relpath(cache_path(server.url(name)), cache)
    assert files_under(cache) == [entry, f"{entry}.sha256"] and entry.endswith(f"/{name}")


def test_a_corrupted_download_is_deleted_and_names_url_and_hashes(server, cache):
    good = checkpoint_bytes(nn.Linear(4, 3))
    name = server.publish("linear", good)
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF  # one flipped byte
    server.files[name] = bytes(bad)
    expected, actual = expected_hash_prefix(name), hashlib.sha256(bad).hexdigest()
    with pytest.raises(
        CheckpointFetchError, match=rf"'{server.url(name)}' failed its hash check.*{expected}.*{actual}"
    ):
        read_checkpoint(server.url(name))
    assert files_under(cache) == []


@pytest.mark.parametrize("hashed", [True, False], ids=["hash-in-name", "no-hash"])
def test_an_interrupted_download_leaves_nothing_in_the_cache(server, cache, hashed):
    data = checkpoint_bytes(nn.Linear(64, 64))
    name = server.publish("linear", data, hashed=hashed)
    server.behaviour[name] = "truncated"
    with pytest.raises(
        CheckpointFetchError, match=rf"interrupted after {len(data) // 2} of {len(data)} bytes"
    ):
        read_checkpoint(server.url(name))
    assert files_under(cache) == []
    server.behaviour.clear()  # the next try downloads it whole
    assert torch.equal(read_checkpoint(server.url(name))["weight"], torch.load(io.BytesIO(data))["weight"])


def test_a_corrupted_cached_file_is_downloaded_again(server, cache):
    source = nn.Linear(4, 3)
    name = server.publish("linear", checkpoint_bytes(source))
    path = Path(cache_path(server.url(name)))
    path.parent.mkdir(parents=True)
    path.write_bytes(b"half a file")
    model = nn.Linear(4, 3)
    load_checkpoint(model, server.url(name))
    torch.testing.assert_close(model.weight, source.weight)
    assert server.requests == [name]


def test_a_missing_file_names_the_url(server, cache):
    with pytest.raises(
        CheckpointFetchError, match=rf"Cannot download checkpoint '{server.url('gone.pth')}'.*404"
    ):
        read_checkpoint(server.url("gone.pth"))


def test_a_refused_download_stays_nowhere(server, cache, tmp_path):
    """torch.hub and torchvision load files from ``$TORCH_HOME/hub/checkpoints`` by name with full
    unpickling: a checkpoint visionkit refused was kept there, waiting for them. Now nothing of it stays,
    there or in visionkit's own cache, and a second try downloads (and refuses) it again."""
    marker = tmp_path / "ran"
    name = server.publish("evil", reduce_payload(tmp_path / "evil.pth", marker).read_bytes())
    for _ in range(2):
        with pytest.raises(UnsafeCheckpointError, match=r"refused 'posix\.system'"):
            read_checkpoint(server.url(name))
        assert files_under(cache) == [] and files_under(tmp_path / "torch_home") == []
    assert server.requests == [name, name] and not marker.exists()


def test_a_cache_hit_is_verified_not_trusted(server, cache):
    """A cached file is used only while its whole sha256 is the one recorded when it was downloaded:
    a file name without a hash (or with a forgeable 8-digit prefix) no longer vouches for what is there."""
    source = nn.Linear(4, 3)
    name = server.publish("linear", checkpoint_bytes(source), hashed=False)
    read_checkpoint(server.url(name))
    path = Path(cache_path(server.url(name)))
    path.write_bytes(checkpoint_bytes(nn.Linear(4, 3)))  # another valid checkpoint under its name
    model = nn.Linear(4, 3)
    load_checkpoint(model, server.url(name))
    torch.testing.assert_close(model.weight, source.weight)
    assert server.requests == [name, name]


def test_two_urls_of_one_file_name_have_their_own_entries(server, cache):
    first, second = nn.Linear(4, 3), nn.Linear(4, 3)
    server.files["a/model.pth"] = checkpoint_bytes(first)
    server.files["b/model.pth"] = checkpoint_bytes(second)
    for source, name in ((first, "a/model.pth"), (second, "b/model.pth")):
        model = nn.Linear(4, 3)
        load_checkpoint(model, server.url(name))
        torch.testing.assert_close(model.weight, source.weight)


def test_a_truncated_download_without_length_is_not_kept(server, cache):
    """Without Content-Length a short download looks complete; it enters the cache only once it reads."""
    name = server.publish("linear", checkpoint_bytes(nn.Linear(64, 64)), hashed=False)
    server.behaviour[name] = "unannounced"
    with pytest.raises(CheckpointReadError, match=rf"'{server.url(name)}'.*truncated"):
        read_checkpoint(server.url(name))
    assert files_under(cache) == [] and files_under(cache.parent.parent / "torch_home") == []


def test_an_endless_download_stops_at_the_limit(server, cache, monkeypatch):
    monkeypatch.setattr(checkpoint_fetch, "MAX_DOWNLOAD_BYTES", 4 << 20)
    server.files["endless.pth"] = b""
    server.behaviour["endless.pth"] = "endless"
    with pytest.raises(CheckpointFetchError, match=r"endless\.pth' is larger than 4 MiB"):
        read_checkpoint(server.url("endless.pth"))
    assert files_under(cache) == []
    server.files["big.pth"] = b"\0" * (5 << 20)  # announced too large: refused before its body
    with pytest.raises(CheckpointFetchError, match=r"big\.pth' is 5 MiB, more than .* \(4 MiB\)"):
        read_checkpoint(server.url("big.pth"))


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [("silent", "the server sent nothing for 0 s"), ("drip", r"sent \d+ bytes in \d s, less than 1 kB/s")],
)
def test_a_silent_or_dripping_server_is_given_up(server, cache, monkeypatch, behaviour, message):
    monkeypatch.setattr(checkpoint_fetch, "STALL_TIMEOUT_S", 0.3)
    monkeypatch.setattr(checkpoint_fetch, "MIN_BYTES_PER_S", 1 << 10)
    server.files["slow.pth"] = bytes(100)
    server.behaviour["slow.pth"] = behaviour
    start = time.monotonic()
    with pytest.raises(CheckpointFetchError, match=rf"slow\.pth'.*{message}"):
        read_checkpoint(server.url("slow.pth"))
    assert time.monotonic() - start < 2 and files_under(cache) == []


def test_the_temporary_file_never_follows_a_planted_link(server, cache, tmp_path):
    """The download went to a predictable ``.<name>.<pid>.partial`` beside the cache entry: a link planted
    there made the download overwrite the link's target. Temporary files are now created exclusively
    under random names."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    name = server.publish("linear", checkpoint_bytes(nn.Linear(4, 3)))
    for folder in (
        tmp_path / "torch_home" / "hub" / "checkpoints",
        Path(cache_path(server.url(name))).parent,
    ):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f".{name}.{os.getpid()}.partial").symlink_to(victim)
    read_checkpoint(server.url(name))
    assert victim.read_text() == "precious"


def test_a_redirect_to_another_scheme_is_refused(server, cache):
    server.files["moved.pth"] = b""
    handler = server.httpd.RequestHandlerClass

    def redirect(self) -> None:
        self.send_response(302)
        self.send_header("Location", "ftp://127.0.0.1:1/model.pth")
        self.end_headers()

    handler.do_GET = redirect
    with pytest.raises(CheckpointFetchError, match=r"moved\.pth'.*redirect to another scheme was refused"):
        read_checkpoint(server.url("moved.pth"))


# Every torchvision checkpoint of docs/model_zoo.md, bare names meaning torchvision's first (legacy
# ``pretrained=True``) weights, not its DEFAULT.
TORCHVISION_NAMES = {
    "mobilenet_v2": torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V1,
    "mobilenet_v2.IMAGENET1K_V2": torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V2,
    "mobilenet_v2.imagenet1k_v2": torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V2,
    "MobileNet_V2_Weights.IMAGENET1K_V2": torchvision.models.MobileNet_V2_Weights.IMAGENET1K_V2,
    "mobilenet_v3_large": torchvision.models.MobileNet_V3_Large_Weights.IMAGENET1K_V1,
    "mobilenet_v3_large.IMAGENET1K_V1": torchvision.models.MobileNet_V3_Large_Weights.IMAGENET1K_V1,
    "mobilenet_v3_large.IMAGENET1K_V2": torchvision.models.MobileNet_V3_Large_Weights.IMAGENET1K_V2,
    "mobilenet_v3_large.DEFAULT": torchvision.models.MobileNet_V3_Large_Weights.IMAGENET1K_V2,
    "mobilenet_v3_small": torchvision.models.MobileNet_V3_Small_Weights.IMAGENET1K_V1,
    "ssdlite320_mobilenet_v3_large": detection.SSDLite320_MobileNet_V3_Large_Weights.COCO_V1,
    "deeplabv3_mobilenet_v3_large": segmentation.DeepLabV3_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1,
    "lraspp_mobilenet_v3_large": segmentation.LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1,
}


@pytest.mark.parametrize("name", TORCHVISION_NAMES)
def test_torchvision_names_resolve_to_published_hash_checked_urls(name):
    url = torchvision_url(name)
    assert url == TORCHVISION_NAMES[name].url
    assert len(expected_hash_prefix(url)) >= 8


def test_the_urls_known_by_heart():
    """The published names of the issue's table, as torchvision and mmdetection spell them."""
    assert torchvision_url("mobilenet_v2") == "https://download.pytorch.org/models/mobilenet_v2-b0353104.pth"
    assert torchvision_url("mobilenet_v2.IMAGENET1K_V2").endswith("/mobilenet_v2-7ebf99e0.pth")
    mmdet = "ssdlite_mobilenetv2_scratch_600e_coco_20210629_110627-974d9307.pth"
    assert expected_hash_prefix(f"https://download.openmmlab.com/x/{mmdet}") == "974d9307"
    assert expected_hash_prefix("https://example.org/model_final.pth") is None
    assert expected_hash_prefix("https://example.org/detector-2024.pth") is None  # too short for a hash


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("mobilenet_v4", r"no model 'mobilenet_v4' \(its MobileNets: .*mobilenet_v3_small"),
        ("mobilenet_v2.IMAGENET1K_V3", r"no version 'IMAGENET1K_V3'; it has IMAGENET1K_V1, IMAGENET1K_V2"),
    ],
)
def test_unknown_torchvision_names_are_named(name, message):
    with pytest.raises(CheckpointFetchError, match=rf"'torchvision://{name}'.*{message}"):
        read_checkpoint(f"torchvision://{name}")


def test_a_pinned_sha256_is_checked_where_the_name_carries_none(server, cache, monkeypatch):
    """PaddleClas's URLs carry no hash: a sha256 pinned in the table of pins is checked instead, whole."""
    from visionkit.models import checkpoint_names, tf_releases

    data = checkpoint_bytes(nn.Linear(4, 3))
    server.files["MobileNetV2_ssld_pretrained.pdparams"] = data
    monkeypatch.setattr(checkpoint_names, "_PADDLECLAS_ROOT", server.url(""))
    url = server.url("MobileNetV2_ssld_pretrained.pdparams")
    monkeypatch.setitem(tf_releases.PINNED_SHA256, url, "0" * 64)
    with pytest.raises(CheckpointFetchError, match=r"visionkit pins sha256 0{64}\.\.\., the downloaded file"):
        read_checkpoint("paddleclas://MobileNetV2_ssld")
    assert files_under(cache) == []
    monkeypatch.setitem(tf_releases.PINNED_SHA256, url, hashlib.sha256(data).hexdigest())
    assert sorted(read_checkpoint("paddleclas://MobileNetV2_ssld")) == ["bias", "weight"]


# PaddleClas's MODEL_URLS (ppcls/arch/backbone/model_zoo/mobilenet_v2.py); use_ssld=True reads the file with
# "_pretrained" replaced by "_ssld_pretrained" (ppcls/utils/save_load.py).
PADDLECLAS_URLS = {
    "MobileNetV2_x0_25": "MobileNetV2_x0_25_pretrained.pdparams",
    "MobileNetV2_x0_5": "MobileNetV2_x0_5_pretrained.pdparams",
    "mobilenetv2_x0_75": "MobileNetV2_x0_75_pretrained.pdparams",
    "MobileNetV2": "MobileNetV2_pretrained.pdparams",
    "MobileNetV2_x1_5": "MobileNetV2_x1_5_pretrained.pdparams",
    "MobileNetV2_x2_0": "MobileNetV2_x2_0_pretrained.pdparams",
    "MobileNetV2_ssld": "MobileNetV2_ssld_pretrained.pdparams",
}


@pytest.mark.parametrize("name", PADDLECLAS_URLS)
def test_paddleclas_names_resolve_to_its_model_urls(name):
    from visionkit.models.checkpoint_names import checkpoint_url

    url = "https://paddle-imagenet-models-name.bj.bcebos.com/dygraph/" + PADDLECLAS_URLS[name]
    assert checkpoint_url(f"paddleclas://{name}") == url


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("paddleclas://MobileNetV3_large_x1_0", r"not a PaddleClas checkpoint visionkit knows; it knows Mob"),
        ("timm://mobilenetv2_035", r"not a timm checkpoint visionkit knows; it knows mobilenetv2_050"),
        (
            "hf://timm/mobilenetv2_100",
            r"only local paths, http\(s\):// and torchvision://, timm://, paddlecl",
        ),
    ],
)
def test_unknown_names_of_the_other_zoos_are_named(name, message):
    with pytest.raises((CheckpointFetchError, CheckpointReadError), match=rf"'{re.escape(name)}'.*{message}"):
        read_checkpoint(name)
