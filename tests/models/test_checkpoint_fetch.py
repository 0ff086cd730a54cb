"""Fetching checkpoints by URL: once into the cache, hash-checked, whole or not at all, still read safely.

A real HTTP server on 127.0.0.1 (a thread of the test process) serves the files; nothing leaves the machine.
"""

from __future__ import annotations

import hashlib
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models import detection, segmentation

from tests.engine.hostile_checkpoints import reduce_payload
from visionkit.models import CheckpointFetchError, UnsafeCheckpointError, load_checkpoint, read_checkpoint
from visionkit.models.checkpoint_fetch import cache_dir, expected_hash_prefix, torchvision_url


class Server:
    """Serves ``files`` (name -> bytes); names in ``truncated`` send half their bytes, then hang up."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.truncated: set[str] = set()
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                server.requests.append(name)
                if name not in server.files:
                    self.send_error(404)
                    return
                data = server.files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if name in server.truncated else data)

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
    """The checkpoint cache, under ``$TORCH_HOME`` as torch.hub and torchvision keep it."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    assert cache_dir() == str(tmp_path / "torch_home" / "hub" / "checkpoints")
    return tmp_path / "torch_home" / "hub" / "checkpoints"


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
    assert sorted(p.name for p in cache.iterdir()) == [name]


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
    assert list(cache.iterdir()) == []


@pytest.mark.parametrize("hashed", [True, False], ids=["hash-in-name", "no-hash"])
def test_an_interrupted_download_leaves_nothing_in_the_cache(server, cache, hashed):
    data = checkpoint_bytes(nn.Linear(64, 64))
    name = server.publish("linear", data, hashed=hashed)
    server.truncated.add(name)
    with pytest.raises(
        CheckpointFetchError, match=rf"interrupted after {len(data) // 2} of {len(data)} bytes"
    ):
        read_checkpoint(server.url(name))
    assert list(cache.iterdir()) == []
    server.truncated.clear()  # the next try downloads it whole
    assert torch.equal(read_checkpoint(server.url(name))["weight"], torch.load(io.BytesIO(data))["weight"])


def test_a_corrupted_cached_file_is_downloaded_again(server, cache):
    source = nn.Linear(4, 3)
    name = server.publish("linear", checkpoint_bytes(source))
    cache.mkdir(parents=True)
    (cache / name).write_bytes(b"half a file")
    model = nn.Linear(4, 3)
    load_checkpoint(model, server.url(name))
    torch.testing.assert_close(model.weight, source.weight)
    assert server.requests == [name]


def test_a_missing_file_names_the_url(server, cache):
    with pytest.raises(
        CheckpointFetchError, match=rf"Cannot download checkpoint '{server.url('gone.pth')}'.*404"
    ):
        read_checkpoint(server.url("gone.pth"))


def test_a_downloaded_checkpoint_is_still_read_as_plain_data_only(server, cache, tmp_path):
    marker = tmp_path / "ran"
    name = server.publish("evil", reduce_payload(tmp_path / "evil.pth", marker).read_bytes())
    with pytest.raises(UnsafeCheckpointError, match=r"refused 'posix\.system'"):
        read_checkpoint(server.url(name))
    assert not marker.exists()


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
