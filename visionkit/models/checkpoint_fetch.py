"""Fetching published checkpoints: ``torchvision://NAME[.VERSION]`` and ``http(s)://`` URLs.

A URL's file is downloaded once into visionkit's own cache, one folder per URL (the first 16 hex digits of
the URL's sha256, so two URLs that end in one file name never share an entry): ``$VISIONKIT_CACHE/
checkpoints`` (default ``$XDG_CACHE_HOME/visionkit/checkpoints``, ``~/.cache/visionkit/checkpoints``).
Never torch.hub's ``hub/checkpoints``: torch.hub and torchvision load files from there by name with full
unpickling, so a file visionkit refused must not wait there for them.

A download is streamed into a new temporary file of that folder (created exclusively, so a planted link
is never followed), within :data:`MAX_DOWNLOAD_BYTES`, and given up when the server sends nothing for
:data:`STALL_TIMEOUT_S` or less than :data:`MIN_BYTES_PER_S` on average after that. It must have every
byte the server announced and match the sha256 prefix its file name carries (torchvision's and
mmdetection's do: ``mobilenet_v2-b0353104.pth``); :func:`fetched_checkpoint` then lets the caller read it
and only then moves it under its name with its full sha256 beside it. A cached file is used only while its
sha256 matches that record, and is deleted when it no longer reads. A hash proves the file is the one
published under that name, not that it is safe: safety comes from the loader.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, BinaryIO
from urllib.parse import urlparse

from mmengine.logging import print_log

from .tf_releases import pinned_sha256
from .untrusted_text import printable

TORCHVISION_SCHEME = "torchvision://"
# torch.hub's HASH_REGEX ("-<hex>." in the name), asking for 8 digits or more as torchvision's and mmdet's
# names have, so that a user's "model-2024.pth" is not taken for a hash.
_HASH_PREFIX = re.compile(r"-([a-f0-9]{8,})\.")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._+-]{1,120}$")
_CHUNK = 1 << 20
MAX_DOWNLOAD_BYTES = 2 << 30  # visionkit's checkpoints are tens of MB; mmdetection's largest about 1 GB
STALL_TIMEOUT_S = 60.0
MIN_BYTES_PER_S = 16 << 10


class CheckpointFetchError(RuntimeError):
    """A checkpoint could not be fetched: unknown name, failed or interrupted download, wrong hash."""


def cache_dir() -> str:
    """The folder downloaded checkpoints live in (see the module docstring)."""
    root = os.environ.get("VISIONKIT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "visionkit"
    )
    return os.path.join(root, "checkpoints")


def _file_name(url: str) -> str:
    name = os.path.basename(urlparse(url).path)
    return name if _SAFE_NAME.match(name) and name not in (".", "..") else "checkpoint.pth"


def cache_path(url: str) -> str:
    """Where ``url``'s file is kept: ``<cache_dir>/<sha256(url)[:16]>/<its file name>``."""
    key = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return os.path.join(cache_dir(), key, _file_name(url))


def expected_hash_prefix(url: str) -> str | None:
    """The sha256 (prefix) ``url``'s file must have: pinned (a ``#sha256=`` fragment, a TF release of
    :mod:`.tf_releases`), else carried by its file name (``mobilenet_v2-b0353104.pth`` -> ``'b0353104'``)."""
    try:
        pinned = pinned_sha256(url)
    except ValueError as error:
        raise CheckpointFetchError(f"Checkpoint '{url}': {error}") from None
    if pinned is not None:
        return pinned
    match = _HASH_PREFIX.search(os.path.basename(urlparse(url).path))
    return match.group(1) if match else None


def sha256_of(path: str) -> str:
    """The hex sha256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _HttpRedirectsOnly(urllib.request.HTTPRedirectHandler):
    """Follows redirects to http(s) URLs only (urllib also follows them to ftp://)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if urlparse(newurl).scheme not in ("http", "https"):
            raise urllib.error.HTTPError(
                newurl, code, "a redirect to another scheme was refused", headers, fp
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _stream(response: Any, file: BinaryIO, url: str) -> int:
    """Copy ``response`` into ``file`` within the size and rate limits; the bytes received."""
    start, received = time.monotonic(), 0
    while chunk := response.read1(_CHUNK):
        received += len(chunk)
        if received > MAX_DOWNLOAD_BYTES:
            raise CheckpointFetchError(
                f"Checkpoint '{url}' is larger than {MAX_DOWNLOAD_BYTES >> 20} MiB, visionkit's limit for a "
                "download: download it yourself and give its local path"
            )
        file.write(chunk)
        elapsed = time.monotonic() - start
        if elapsed > STALL_TIMEOUT_S and received < MIN_BYTES_PER_S * elapsed:
            raise CheckpointFetchError(
                f"Checkpoint '{url}': the server sent {received} bytes in {elapsed:.0f} s, less than "
                f"{MIN_BYTES_PER_S >> 10} kB/s; nothing was kept, try again later"
            )
    return received


def download_to_file(url: str, file: BinaryIO) -> None:
    """Stream ``url`` into the open ``file``, checking that every byte the server announced arrived.

    Raises:
        CheckpointFetchError: the request failed or stalled, the response was too large or too slow, or
            the connection ended before ``Content-Length`` bytes.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "visionkit"})
    opener = urllib.request.build_opener(_HttpRedirectsOnly)
    try:
        with opener.open(request, timeout=STALL_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            length = int(length) if length is not None and length.isdigit() else None
            if length is not None and length > MAX_DOWNLOAD_BYTES:
                raise CheckpointFetchError(
                    f"Checkpoint '{url}' is {length >> 20} MiB, more than visionkit's limit for a download "
                    f"({MAX_DOWNLOAD_BYTES >> 20} MiB): download it yourself and give its local path"
                )
            received = _stream(response, file, url)
    except TimeoutError as error:
        raise CheckpointFetchError(
            f"Cannot download checkpoint '{url}': the server sent nothing for {STALL_TIMEOUT_S:.0f} s"
        ) from error
    except (OSError, http.client.HTTPException) as error:  # URLError, HTTPError, resets, a full disk
        raise CheckpointFetchError(f"Cannot download checkpoint '{url}': {printable(str(error))}") from error
    if length is not None and received != length:
        raise CheckpointFetchError(
            f"Checkpoint '{url}': the download was interrupted after {received} of {length} bytes; "
            "nothing was kept, try again"
        )


def _discard(*paths: str) -> None:
    for path in paths:
        with suppress(FileNotFoundError):
            os.remove(path)


def _digest_path(path: str) -> str:
    return f"{path}.sha256"


def _cached(path: str, expected: str | None) -> bool:
    """Whether ``path`` is a regular file whose sha256 is the one recorded when it entered the cache."""
    if os.path.islink(path) or not os.path.isfile(path) or not os.path.isfile(_digest_path(path)):
        return False
    with open(_digest_path(path)) as file:
        recorded = file.read(64)
    return sha256_of(path) == recorded and (expected is None or recorded.startswith(expected))


def _write_atomically(path: str, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".partial")
    try:
        with os.fdopen(fd, "w") as file:
            file.write(text)
        os.replace(temporary, path)
    finally:
        _discard(temporary)


def _download(url: str, path: str, expected: str | None, pinned: bool) -> tuple[str, str]:
    """Download ``url`` into a new temporary file beside ``path``; (its path, its sha256)."""
    print_log(f"Downloading checkpoint {url} to {path}", logger="current")
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as file:
            download_to_file(url, file)
        actual = sha256_of(temporary)
    except BaseException:
        _discard(temporary)
        raise
    if expected is not None and not actual.startswith(expected):
        _discard(temporary)
        promise = "visionkit pins sha256" if pinned else "its file name promises sha256"
        raise CheckpointFetchError(
            f"Checkpoint '{url}' failed its hash check: {promise} {expected}..., the "
            f"downloaded file has {actual}. Nothing was kept; try again, and if it persists the file on the "
            "server is not the one published under this name (if those hex digits of the name are not a "
            "hash, download the file yourself and give its local path)"
        )
    return temporary, actual


@contextmanager
def fetched_checkpoint(url: str) -> Iterator[str]:
    """The local path of ``url``'s file for the ``with`` body to read, downloading it if needed.

    The file must have the sha256 :func:`expected_hash_prefix` names: its pin, else the prefix its name
    carries, if any. A download enters the cache only when the body finishes without an
    exception (it read the file); a cached file is deleted when the body fails on it. Either way nothing that
    failed stays on disk.
    """
    path, expected = cache_path(url), expected_hash_prefix(url)
    pinned = pinned_sha256(url) is not None
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    if os.path.isdir(path) and not os.path.islink(path):
        raise CheckpointFetchError(f"Checkpoint '{url}': its cache entry {path} is a folder; remove it")
    if _cached(path, expected):
        try:
            yield path
        except BaseException:
            _discard(path, _digest_path(path))
            raise
        return
    _discard(path, _digest_path(path))
    temporary, digest = _download(url, path, expected, pinned)
    try:
        yield temporary
        _write_atomically(_digest_path(path), digest)
        os.replace(temporary, path)
    finally:
        _discard(temporary)


def torchvision_weights(name: str):
    """torchvision's weights enum member for ``NAME``, ``NAME.VERSION`` or ``Class_Weights.VERSION``.

    A bare ``NAME`` is the model's first weights (what torchvision's legacy ``pretrained=True`` loads:
    ``mobilenet_v2`` -> ``IMAGENET1K_V1``); ``NAME.DEFAULT`` is torchvision's current best. Versions are
    case-insensitive (``mobilenet_v2.imagenet1k_v2`` as in mmengine). Read from the installed torchvision,
    without network access.
    """
    import torchvision
    import torchvision.models as tvm

    model_name, _, version = name.partition(".")
    enums = {model: tvm.get_model_weights(model) for model in tvm.list_models()}
    enum = enums.get(model_name) or next((e for e in enums.values() if e.__name__ == model_name), None)
    if enum is None:
        mobile = [model for model in enums if "mobilenet" in model]
        raise CheckpointFetchError(
            f"Checkpoint '{TORCHVISION_SCHEME}{name}': torchvision {torchvision.__version__} has no model "
            f"'{model_name}' (its MobileNets: {', '.join(mobile)})"
        )
    versions = {member.name: member for member in enum}
    if not version:
        return next(iter(enum))
    if version.upper() == "DEFAULT":
        return enum.DEFAULT
    if version.upper() not in versions:
        raise CheckpointFetchError(
            f"Checkpoint '{TORCHVISION_SCHEME}{name}': torchvision's {enum.__name__} has no version "
            f"'{version}'; it has {', '.join(versions)} and DEFAULT"
        )
    return versions[version.upper()]


def torchvision_url(name: str) -> str:
    """The published URL of ``torchvision://NAME[.VERSION]`` (see :func:`torchvision_weights`)."""
    return torchvision_weights(name).url
