"""The configs that ship with visionkit, and the ``visionkit::NAME`` form that names one from anywhere.

A source checkout or editable install reads them from the repository's ``configs/``; a wheel carries a
copy as ``visionkit/configs`` (``setup.py`` copies the folder at build time). A user's own config,
wherever it lives, inherits one with::

    _base_ = ["visionkit::ssdlite_mnv2_coco.py"]

mmengine's own ``package::path`` form needs an OpenMMLab ``.mim`` folder and model index, so
:func:`install_config_scope` teaches mmengine's ``Config`` this one prefix and leaves every other path
to mmengine.
"""

from __future__ import annotations

from pathlib import Path

from mmengine.config import Config

SCOPE_PREFIX = "visionkit::"
_PACKAGE = Path(__file__).resolve().parents[1]


def configs_dir() -> Path:
    """The folder of the shipped configs: the wheel's copy, else the source tree's ``configs/``."""
    for candidate in (_PACKAGE / "configs", _PACKAGE.parent / "configs"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"visionkit's configs are not installed (neither {_PACKAGE / 'configs'} nor "
        f"{_PACKAGE.parent / 'configs'} exists); reinstall visionkit"
    )


def list_configs() -> list[str]:
    """Names (relative to :func:`configs_dir`) of the shipped runnable configs, without ``_base_``."""
    root = configs_dir()
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if "_base_" not in p.relative_to(root).parts
    )


def shipped_config_path(name: str) -> Path:
    """``visionkit::NAME`` or ``NAME`` -> the shipped config file; ``FileNotFoundError`` listing them."""
    relative = name[len(SCOPE_PREFIX) :] if name.startswith(SCOPE_PREFIX) else name
    path = configs_dir() / relative
    if not path.is_file():
        raise FileNotFoundError(
            f"visionkit ships no config '{relative}'; `visionkit configs` lists them: "
            f"{', '.join(list_configs())}"
        )
    return path


def resolve_config_path(path: str) -> str:
    """A config path as given if the file exists, else the shipped config it names (``visionkit::NAME``,
    ``configs/NAME`` or ``NAME``); ``FileNotFoundError`` if neither exists."""
    if Path(path).is_file() and not path.startswith(SCOPE_PREFIX):
        return path
    name = path
    if not name.startswith(SCOPE_PREFIX) and Path(name).parts[:1] == ("configs",):
        name = Path(*Path(name).parts[1:]).as_posix()
    try:
        return str(shipped_config_path(name))
    except FileNotFoundError:
        if path.startswith(SCOPE_PREFIX):
            raise
        raise FileNotFoundError(f"Config file '{path}' not found") from None


def install_config_scope() -> None:
    """Make mmengine's ``Config`` read ``_base_`` entries ``visionkit::NAME`` from :func:`configs_dir`."""
    original = Config._get_cfg_path
    if getattr(original, "_visionkit_scope", False):
        return

    def get_cfg_path(cfg_path: str, filename: str) -> tuple[str, str | None]:
        if cfg_path.startswith(SCOPE_PREFIX):
            return str(shipped_config_path(cfg_path)), None
        return original(cfg_path, filename)

    get_cfg_path._visionkit_scope = True  # type: ignore[attr-defined]
    Config._get_cfg_path = staticmethod(get_cfg_path)
