"""Fetching published checkpoints: ``torchvision://NAME[.VERSION]`` and ``http(s)://`` URLs.

A URL is downloaded once into torch.hub's cache (``$TORCH_HOME/hub/checkpoints``, ``~/.cache/torch/hub/
checkpoints`` by default: the folder torchvision and mmengine fill, so a file either of them fetched is
reused). A file name that carries a sha256 prefix of 8 hex digits or more, as torchvision's and mmdetection's
do (``mobilenet_v2-b0353104.pth``, ``..._20210629_110627-974d9307.pth``; torch.hub's ``HASH_REGEX``), is
checked against it after the download and whenever it is taken from the cache. A download goes to a
temporary file that is renamed into the cache only when it is complete and its hash is right, so an
interrupted or corrupted download leaves nothing under the checkpoint's name.
"""

from __future__ import annotations

import hashlib
import os
import re
import urllib.request
from urllib.parse import urlparse

import torch
from mmengine.logging import print_log

TORCHVISION_SCHEME = "torchvision://"
# torch.hub's HASH_REGEX ("-<hex>." in the name), asking for 8 digits or more as torchvision's and mmdet's
# names have, so that a user's "model-2024.pth" is not taken for a hash.
_HASH_PREFIX = re.compile(r"-([a-f0-9]{8,})\.")
_CHUNK = 1 << 20


class CheckpointFetchError(RuntimeError):
    """A checkpoint could not be fetched: unknown name, failed or interrupted download, wrong hash."""


def cache_dir() -> str:
    """The folder downloaded checkpoints live in: torch.hub's ``<hub dir>/checkpoints``."""
    return os.path.join(torch.hub.get_dir(), "checkpoints")


def expected_hash_prefix(url: str) -> str | None:
    """The sha256 prefix a file name carries (``mobilenet_v2-b0353104.pth`` -> ``'b0353104'``), else None."""
    match = _HASH_PREFIX.search(os.path.basename(urlparse(url).path))
    return match.group(1) if match else None


def sha256_of(path: str) -> str:
    """The hex sha256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_error(url: str, directory: str, expected: str, actual: str) -> CheckpointFetchError:
    return CheckpointFetchError(
        f"Checkpoint '{url}' failed its hash check: its file name promises sha256 {expected}..., the "
        f"downloaded file has {actual}. Nothing was kept in {directory}; try again, and if it persists the "
        "file on the server is not the one published under this name (if those hex digits of the name are "
        "not a hash, download the file yourself and give its local path)"
    )


def download_to_file(url: str, path: str) -> None:
    """Stream ``url`` into ``path``, checking that every byte the server announced arrived.

    Raises:
        CheckpointFetchError: the request failed, or the connection ended before ``Content-Length`` bytes.
    """
    request = urllib.request.Request(url, headers={"User-Agent": "visionkit"})
    try:
        with urllib.request.urlopen(request) as response, open(path, "wb") as file:
            length = response.headers.get("Content-Length")
            received = 0
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                file.write(chunk)
                received += len(chunk)
    except OSError as error:  # URLError, HTTPError, connection resets, a full disk
        raise CheckpointFetchError(f"Cannot download checkpoint '{url}': {error}") from error
    if length is not None and received != int(length):
        raise CheckpointFetchError(
            f"Checkpoint '{url}': the download was interrupted after {received} of {int(length)} bytes; "
            "nothing was kept, try again"
        )


def download_checkpoint(url: str, directory: str | None = None) -> str:
    """The local path of ``url``'s file in the cache, downloading it first if it is not there.

    The file name's sha256 prefix (if any) is checked on every call. A download goes to a temporary file
    in the cache folder, renamed to the file's name only when complete and hash-checked. A cached file
    that fails the check is deleted and downloaded again; a downloaded one raises
    :class:`CheckpointFetchError` naming the URL and both hashes.
    """
    directory = cache_dir() if directory is None else directory
    os.makedirs(directory, exist_ok=True)
    name = os.path.basename(urlparse(url).path)
    path = os.path.join(directory, name)
    expected = expected_hash_prefix(url)
    if os.path.exists(path):
        if expected is None or sha256_of(path).startswith(expected):
            return path
        print_log(
            f"Cached checkpoint {path} does not match the sha256 prefix {expected} of its name: "
            "deleted, downloading it again",
            logger="current",
            level=30,
        )
        os.remove(path)
    print_log(f"Downloading checkpoint {url} to {path}", logger="current")
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.partial")
    try:
        download_to_file(url, temporary)
        if expected is not None:
            actual = sha256_of(temporary)
            if not actual.startswith(expected):
                raise _hash_error(url, directory, expected, actual)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


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
