"""TF checkpoints as published: a checkpoint prefix on disk, or a ``.tgz`` / ``.tar.gz`` release holding one.

:func:`read_tf_file` is the one entry: ``read_checkpoint`` hands it every local file (a download included)
and it answers None for files that are not TF checkpoints. From an archive only the checkpoint's members are
extracted (``NAME.index`` and its ``NAME.data-0000k-of-0000n`` shards, regular files only: never a link, a
device or a folder), each into a fresh temporary folder under its base name alone, so a member's path
(``../``, absolute) never decides where anything is written. The archive is read as a stream, and the
members' declared sizes together, skipped ones included, may not exceed 64 bytes per byte of the archive
plus 64 MiB: a gzip bomb is refused before it is inflated, and reading costs time linear in the file.
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import tarfile
import tempfile
from urllib.parse import urlparse

import torch

from .checkpoint_tf import DATA_SHARD, TensorBundleRefused, checkpoint_prefix, read_tf_checkpoint
from .untrusted_text import shown

ARCHIVE_SUFFIXES = (".tgz", ".tar.gz")
_MEMBER = re.compile(r"^(?P<prefix>[^/]+?)(?P<suffix>\.index|\.data-\d{5}-of-\d{5})$")


def is_tf_archive(path: str, name: str | None = None) -> bool:
    """Whether ``path`` is a release archive: named ``.tgz`` / ``.tar.gz`` (itself, or the ``name`` it was
    given by: a download has a temporary name), or a gzip-compressed tar by its bytes. Other gzip files are
    left to :mod:`.checkpoint_formats`, which names what they look like."""
    names = [path] + ([urlparse(name).path if "://" in name else name] if name else [])
    if any(n.lower().endswith(ARCHIVE_SUFFIXES) for n in names):
        return True
    if not os.path.isfile(path):
        return False
    with open(path, "rb") as file:
        if file.read(2) != b"\x1f\x8b":
            return False
        file.seek(0)
        try:
            with gzip.GzipFile(fileobj=file) as unpacked:
                return unpacked.read(512)[257:262] == b"ustar"  # a tar header's magic
        except (OSError, EOFError):
            return False


def _checkpoint_members(archive: tarfile.TarFile, limit: int, folder: str) -> list[str]:
    """Extract the checkpoint members of the open ``archive`` into ``folder``; their base names."""
    total, extracted = 0, []
    for member in archive:
        total += max(member.size, 0)
        if total > limit:
            raise TensorBundleRefused(f"its members hold more than {limit} bytes, 64 per byte of the archive")
        name = os.path.basename(member.name.rstrip("/"))
        if not _MEMBER.match(name):
            continue
        if not member.isreg():
            raise TensorBundleRefused(f"its member {shown(member.name)} is a link or special file")
        if name in extracted:
            raise TensorBundleRefused(f"it holds {shown(name)} twice")
        source = archive.extractfile(member)
        with open(os.path.join(folder, name), "xb") as target:
            shutil.copyfileobj(source, target, 1 << 20)
        extracted.append(name)
    return extracted


def read_tf_archive(path: str) -> dict[str, torch.Tensor]:
    """The tensors of the one TF checkpoint inside the archive ``path``."""
    limit = 64 * os.path.getsize(path) + (64 << 20)
    with tempfile.TemporaryDirectory(prefix="visionkit-tf-") as folder:
        with tarfile.open(path, "r|*") as archive:
            names = _checkpoint_members(archive, limit, folder)
        prefixes = sorted({n[: -len(".index")] for n in names if n.endswith(".index")})
        if len(prefixes) != 1:
            found = ", ".join(shown(p) for p in prefixes) or "none"
            raise TensorBundleRefused(f"it holds {len(prefixes)} TF checkpoints ({found}), not one")
        (prefix,) = prefixes
        stray = [n for n in names if DATA_SHARD.sub("", n) not in (prefix, prefix + ".index")]
        if stray:
            raise TensorBundleRefused(f"its data files {shown(stray)} belong to no checkpoint index")
        return read_tf_checkpoint(os.path.join(folder, prefix))


def read_tf_file(path: str, name: str | None = None) -> dict[str, torch.Tensor] | None:
    """The tensors of the TF checkpoint ``path`` names (a prefix, its ``.index`` or a ``.data-*`` shard,
    or a ``.tgz`` / ``.tar.gz`` release holding one, by its own or the given ``name``), by TF variable
    name; None when it names none.

    Raises:
        TensorBundleError: unreadable, truncated or corrupted.
        TensorBundleRefused: claims more than the files hold, or holds what visionkit does not read.
        tarfile.TarError, OSError: a broken archive.
    """
    if is_tf_archive(path, name):
        return read_tf_archive(path)
    prefix = checkpoint_prefix(path)
    return None if prefix is None else read_tf_checkpoint(prefix)
